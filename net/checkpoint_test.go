package net_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cifarlab/cpu"
	"cifarlab/net"
	"cifarlab/net/safetensors"
)

// trained returns a LeNet5 trainer after two steps, so that weights, Adam's
// moments and the step count are all non-trivial.
func trained(t *testing.T, b net.Backend, model string, seed uint64) *net.Trainer {
	t.Helper()
	n, err := net.New(b, model, 10, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Free)
	tr, err := net.NewTrainer(b, n, net.TrainConfig{Batch: 4, Norm: net.Normalize{Mean: normMean, Std: normStd}}, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Free)
	recs, err := b.UploadRecords(goldenRecords(seed, 8), net.InputShape)
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 2; s++ {
		if _, err := tr.Step(recs, []int32{int32(4 * s), int32(4*s + 1), int32(4*s + 2), int32(4*s + 3)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func equalStates(t *testing.T, a, b []net.StateEntry) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d entries, want %d", len(b), len(a))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !a[i].Shape.Equal(b[i].Shape) {
			t.Fatalf("entry %d: %s %v, want %s %v", i, b[i].Name, b[i].Shape, a[i].Name, a[i].Shape)
		}
		for j := range a[i].Float {
			if a[i].Float[j] != b[i].Float[j] {
				t.Fatalf("%s[%d] = %v, want %v", a[i].Name, j, b[i].Float[j], a[i].Float[j])
			}
		}
		for j := range a[i].Int {
			if a[i].Int[j] != b[i].Int[j] {
				t.Fatalf("%s = %v, want %v", a[i].Name, b[i].Int, a[i].Int)
			}
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	b := cpu.New()
	defer b.Close()
	for _, model := range net.Models {
		t.Run(model, func(t *testing.T) {
			src := trained(t, b, model, 3)
			path := filepath.Join(t.TempDir(), model+".safetensors")
			if err := src.SaveCheckpoint(path, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}); err != nil {
				t.Fatal(err)
			}
			want, _ := src.Net.StateDict()

			// The weights file alone is a state dict with exactly PyTorch's keys.
			w, err := net.ReadWeights(path)
			if err != nil {
				t.Fatal(err)
			}
			if w.Model != model || w.NumClasses() != 10 || w.Classes[9] != "j" {
				t.Errorf("read back model %q, %d classes %v", w.Model, w.NumClasses(), w.Classes)
			}
			if len(w.Entries) != len(want) {
				t.Errorf("%d tensors in the file, state dict has %d", len(w.Entries), len(want))
			}

			dst := trained(t, b, model, 9)
			info, err := dst.Resume(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Step != 2 || dst.Opt.Step != 2 || info.Epoch != 0 {
				t.Errorf("resumed at %+v, optimizer step %d", info, dst.Opt.Step)
			}
			got, _ := dst.Net.StateDict()
			equalStates(t, want, got)
			for i, p := range src.Opt.Params {
				q := dst.Opt.Params[i]
				for _, pair := range [][2]net.Tensor{{p.M, q.M}, {p.V, q.V}} {
					a, c := download(t, b, pair[0]), download(t, b, pair[1])
					for j := range a {
						if math.Float32bits(a[j]) != math.Float32bits(c[j]) {
							t.Fatalf("%s[%d]: Adam moment %v after resuming, %v saved", p.Name, j, c[j], a[j])
						}
					}
				}
			}
		})
	}
}

// writeState writes a LeNet5 state dict with one change applied.
func writeState(t *testing.T, path string, es []net.StateEntry, change func(ts []safetensors.Tensor) []safetensors.Tensor) {
	t.Helper()
	var ts []safetensors.Tensor
	for _, e := range es {
		if e.Int != nil {
			ts = append(ts, safetensors.I64(e.Name, e.Shape, e.Int))
		} else {
			ts = append(ts, safetensors.F32(e.Name, e.Shape, e.Float))
		}
	}
	if err := safetensors.WriteFile(path, change(ts), nil); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRejectsMismatchedStateDicts(t *testing.T) {
	b := cpu.New()
	defer b.Close()
	n, err := net.New(b, "resnet18", 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Free()
	es, _ := n.StateDict()
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		change func(ts []safetensors.Tensor) []safetensors.Tensor
		want   string
	}{
		{"missing", func(ts []safetensors.Tensor) []safetensors.Tensor { return ts[1:] }, "conv1.0.weight: missing"},
		{"unknown", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return append(ts, safetensors.F32("blk5.conv1.weight", []int{1}, []float32{0}))
		}, "blk5.conv1.weight: unexpected"},
		{"shape", func(ts []safetensors.Tensor) []safetensors.Tensor {
			ts[2] = safetensors.F32(ts[2].Name, []int{32}, make([]float32, 32))
			return ts
		}, "conv1.1.weight: shape [32]"},
		{"dtype", func(ts []safetensors.Tensor) []safetensors.Tensor {
			ts[0] = safetensors.Tensor{Name: ts[0].Name, DType: safetensors.DTypeF64, Shape: ts[0].Shape, Data: make([]byte, 8*len(ts[0].Data)/4)}
			return ts
		}, `"conv1.0.weight" has dtype F64`},
		{"counter as float", func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i, x := range ts {
				if strings.HasSuffix(x.Name, "num_batches_tracked") {
					ts[i] = safetensors.F32(x.Name, nil, []float32{0})
					break
				}
			}
			return ts
		}, "conv1.1.num_batches_tracked: must be int64"},
		{"outputs", func(ts []safetensors.Tensor) []safetensors.Tensor {
			ts[len(ts)-2] = safetensors.F32("outlayer.weight", []int{5, 512}, make([]float32, 5*512))
			return ts
		}, "outlayer.weight: shape [5,512]"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".safetensors")
		writeState(t, path, es, tc.change)
		w, err := net.ReadWeights(path)
		if err == nil {
			err = n.Load(w)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v; want an error naming %s and %q", tc.name, err, path, tc.want)
		}
	}
	if lenet, err := net.New(b, "lenet5", 10, 1); err == nil {
		defer lenet.Free()
		path := filepath.Join(dir, "resnet.safetensors")
		n.SaveWeights(path, net.CheckpointInfo{})
		w, _ := net.ReadWeights(path)
		if err := lenet.Load(w); err == nil || !strings.Contains(err.Error(), "holds resnet18 weights, not lenet5") {
			t.Errorf("ResNet18 weights into LeNet5: %v", err)
		}
	}
}

func TestResumeRefusesMismatchedOrMissingOptimizerState(t *testing.T) {
	b := cpu.New()
	defer b.Close()
	tr := trained(t, b, "lenet5", 1)
	dir := t.TempDir()
	a, c := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "c.safetensors")
	if err := tr.SaveCheckpoint(a, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.SaveCheckpoint(c, nil); err != nil {
		t.Fatal(err)
	}
	// c's weights with a's optimizer state: two different saves.
	os.Rename(net.OptimPath(a), net.OptimPath(c))
	if _, err := tr.Resume(c); err == nil || !strings.Contains(err.Error(), "not from the same save") {
		t.Errorf("mismatched pair: %v", err)
	}
	os.Remove(net.OptimPath(c))
	if _, err := tr.Resume(c); err == nil || !strings.Contains(err.Error(), "no optimizer state") {
		t.Errorf("missing optimizer state: %v", err)
	}
}

// A save that fails leaves the previous checkpoint as it was.
func TestFailedSaveKeepsThePreviousCheckpoint(t *testing.T) {
	b := cpu.New()
	defer b.Close()
	tr := trained(t, b, "lenet5", 1)
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := tr.SaveCheckpoint(path, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	// The optimizer file's place is taken by a non-empty folder, so its
	// rename fails after both files were written.
	os.Remove(net.OptimPath(path))
	os.MkdirAll(filepath.Join(net.OptimPath(path), "x"), 0o755)
	if err := tr.SaveCheckpoint(path, nil); err == nil {
		t.Fatal("save over a folder: no error")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the weights file changed although the save failed")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
