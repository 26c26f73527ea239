package runplot

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Runs that diverged, measured no gradient or never finished an epoch are
// drawn as far as they go, never a panic (gonum's plot panics on a log
// axis without a positive value).
func TestWriteOddRuns(t *testing.T) {
	for _, tc := range []struct {
		name string
		runs []Run
	}{
		{"no norms", []Run{{Name: "a", Loss: []float64{2.3, 2.1}}}},
		{"diverged at once", []Run{{Name: "b", Loss: []float64{math.NaN()}, Stopped: "diverged at step 1"}}},
		{"nothing at all", []Run{{Name: "c"}}},
		{"infinite norms", []Run{{Name: "d", Loss: []float64{1}, TestAcc: []float64{0.3}, Layers: []string{"x", "y"}, LayerNorms: []float64{math.Inf(1), 1}}}},
		{"mixed", []Run{
			{Name: "e", Loss: []float64{2, 1.5, 1.2}, TestAcc: []float64{0.2, 0.4}, Layers: []string{"x", "y"}, LayerNorms: []float64{1e-8, 1e-2}},
			{Name: "f", Loss: []float64{2, math.Inf(1)}, Stopped: "diverged at step 2"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Write(dir, "compare", tc.runs); err != nil {
				t.Fatal(err)
			}
			svg, err := os.ReadFile(filepath.Join(dir, "compare.svg"))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.runs {
				if r.Stopped != "" && !strings.Contains(string(svg), r.Stopped) {
					t.Errorf("the legend does not say %q", r.Stopped)
				}
			}
			if st, err := os.Stat(filepath.Join(dir, "compare.png")); err != nil || st.Size() < 1000 {
				t.Errorf("compare.png: %v %v", st, err)
			}
		})
	}
	if err := Write(t.TempDir(), "compare", nil); err == nil {
		t.Error("no runs drawn without an error")
	}
}
