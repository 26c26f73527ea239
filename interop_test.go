package main

import (
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"cifarlab/internal/testenv"
	"cifarlab/net"
)

// torchProbs has PyTorch load weights strictly into the reference module
// and return its eval-mode probabilities for the first n test images.
func torchProbs(t *testing.T, py, model, weights, bin string, n int) [][]float64 {
	t.Helper()
	cmd := exec.Command(py, "torch_interop.py", "predict", model, weights, bin, itoa(n))
	cmd.Dir = filepath.Join("net", "testdata")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PyTorch could not load %s: %v\n%s", weights, err, stderrOf(err))
	}
	var r struct{ Probs [][]float64 }
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r.Probs
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// ourProbs is `cifarlab predict -json` for the first n test images.
func ourProbs(t *testing.T, model, weights, bin string, n int) [][]float64 {
	t.Helper()
	code, out, errs := cli(t, append(modelArgs("predict", model), "-weights", weights, "-data", bin, "-n", itoa(n), "-json")...)
	if code != 0 {
		t.Fatalf("predict: %s", errs)
	}
	var probs [][]float64
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p struct{ Probs []float64 }
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		probs = append(probs, p.Probs)
	}
	return probs
}

// modelArgs is cmd with the -model and -bn flags that name model.
func modelArgs(cmd, model string) []string {
	base, nobn := strings.CutSuffix(model, net.NoBNSuffix)
	return []string{cmd, "-model", base, "-bn=" + strconv.FormatBool(!nobn)}
}

func compareProbs(t *testing.T, what string, ours, torch [][]float64) {
	t.Helper()
	if len(ours) != len(torch) {
		t.Fatalf("%s: %d images here, %d in PyTorch", what, len(ours), len(torch))
	}
	worst := 0.0
	for i := range ours {
		for c := range ours[i] {
			worst = math.Max(worst, math.Abs(ours[i][c]-torch[i][c]))
		}
	}
	if worst > 2e-5 {
		t.Errorf("%s: probabilities differ from PyTorch by up to %g", what, worst)
	}
}

// TestCheckpointsInterchangeWithPyTorch: weights trained here load in
// PyTorch with strict=True and predict the same; weights saved by PyTorch
// load here and predict the same.
func TestCheckpointsInterchangeWithPyTorch(t *testing.T) {
	py := testenv.Torch(t)
	bin := filepath.Join(testenv.Data(t), "exact", "test_batch.bin")
	dir := t.TempDir()
	for _, model := range []string{"lenet5", "resnet18", "resnet18-plain", "resnet20", "plain20-nobn", "plain56"} {
		ours := filepath.Join(dir, model+".safetensors")
		code, _, errs := cli(t, append(modelArgs("train", model), "-data", bin, "-limit", "96", "-batch", "32", "-epochs", "1", "-save", ours)...)
		if code != 0 {
			t.Fatalf("train %s: %s", model, errs)
		}
		compareProbs(t, model+" trained here", ourProbs(t, model, ours, bin, 200), torchProbs(t, py, model, ours, bin, 200))

		theirs := filepath.Join(dir, model+"-torch.safetensors")
		cmd := exec.Command(py, "torch_interop.py", "save", model, theirs, "7")
		cmd.Dir = filepath.Join("net", "testdata")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("PyTorch save: %v\n%s", err, out)
		}
		compareProbs(t, model+" saved by PyTorch", ourProbs(t, model, theirs, bin, 200), torchProbs(t, py, model, theirs, bin, 200))
	}
}
