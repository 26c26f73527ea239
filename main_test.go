package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cifarlab/gpu"
	"cifarlab/internal/testenv"
	"cifarlab/net"
)

// cli runs the command in-process and returns its exit status and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestSummaryShapesAndParameters(t *testing.T) {
	for _, tc := range []struct {
		model  string
		params string
		shapes []string
	}{
		{"lenet5", "trainable parameters: 62,006", []string{"[2,6,28,28]", "[2,16,5,5]", "[2,400]", "[2,10]"}},
		{"resnet18", "trainable parameters: 9,817,354", []string{
			"[2,64,10,10]", "[2,128,5,5]", "[2,256,3,3]", "[2,512,2,2]", "[2,512,1,1]", "[2,10]",
			"blk4.extra.0", "Conv2d(512, 512, kernel_size=1, stride=2)"}},
		// The counts PyTorch gives the modules of net/testdata/pytorch_reference.py.
		{"resnet18-plain", "trainable parameters: 9,378,954", []string{"PlainBlk(512, 512, stride=2)", "[2,512,1,1]"}},
		{"resnet20", "trainable parameters: 272,474", []string{
			"[2,16,32,32]", "[2,32,16,16]", "[2,64,8,8]", "[2,64,1,1]", "layer2.0.shortcut.0",
			"Conv2d(16, 32, kernel_size=1, stride=2, bias=False)", "AdaptiveAvgPool2d", "layer3.2.bn2"}},
		{"plain20", "trainable parameters: 269,722", []string{"PlainBlk(16, 32, stride=2)", "layer3.2.conv2"}},
		{"resnet56", "trainable parameters: 855,770", []string{"layer3.8.bn2", "layer3.0.shortcut.1"}},
		{"plain56", "trainable parameters: 853,018", []string{"layer3.8.conv2"}},
		{"plain20 -bn=false", "trainable parameters: 269,034", []string{"Conv2d(3, 16, kernel_size=3, padding=1)"}},
		{"resnet18 -bn=false", "trainable parameters: 9,808,778", []string{"blk4.extra.0"}},
	} {
		code, out, errs := cli(t, append([]string{"summary", "-model"}, strings.Fields(tc.model)...)...)
		if code != 0 {
			t.Fatalf("summary -model %s: exit %d: %s", tc.model, code, errs)
		}
		for _, want := range append(tc.shapes, tc.params) {
			if !strings.Contains(out, want) {
				t.Errorf("summary -model %s lacks %q:\n%s", tc.model, want, out)
			}
		}
	}
}

func TestBadFlagsNameValidValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "-model", "vgg"}, "lenet5, resnet18"},
		{[]string{"train", "-device", "tpu"}, "auto, cpu, gpu"},
		{[]string{"train", "-batch", "0"}, "-batch 0: must be at least 1"},
		{[]string{"train", "-lr", "-1"}, "-lr -1: must be a positive number"},
		{[]string{"train", "-lr", "NaN"}, "must be a positive number"},
		{[]string{"train", "-epochs", "0"}, "-epochs 0"},
		{[]string{"train", "-limit", "-5"}, "-limit -5"},
		{[]string{"train", "-init", "a", "-resume", "b"}, "exclude each other"},
		{[]string{"train", "extra"}, `unexpected argument "extra"`},
		{[]string{"eval"}, "-weights is required"},
		{[]string{"predict", "-weights", "w.safetensors"}, "give image files"},
		{[]string{"predict", "-weights", "w", "-data", "d", "x.png"}, "not both"},
		{[]string{"bench", "-steps", "0"}, "-steps 0"},
		{[]string{"summary", "-model", "alexnet"}, "lenet5, resnet18, resnet18-plain, resnet20, plain20, resnet56, plain56"},
		{[]string{"train", "-model", "lenet5", "-bn=false"}, "lenet5 has no BatchNorm"},
		{[]string{"eval", "-weights", "w", "-bn=false"}, "-bn=false needs -model"},
		{[]string{"frobnicate"}, "valid: train, eval, predict, summary, bench"},
		{[]string{"site"}, "-out DIR is required"},
		{[]string{"site", "-out", "x", "-limit", "-1"}, "-limit -1"},
		{[]string{"site", "-out", "x", "-test", "t.bin"}, "go with -data"},
		{[]string{"site", "-out", "x", "extra"}, `unexpected argument "extra"`},
	} {
		code, _, errs := cli(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

func TestBadInputIsAClearError(t *testing.T) {
	dir := t.TempDir()
	truncated := filepath.Join(dir, "data_batch_1.bin")
	os.WriteFile(truncated, make([]byte, 3073*2+100), 0o644)
	badWeights := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(badWeights, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, '{', '}'}, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "-data", filepath.Join(dir, "missing")}, "missing"},
		{[]string{"train", "-data", truncated}, "data_batch_1.bin"},
		{[]string{"eval", "-weights", badWeights, "-data", truncated}, "data_batch_1.bin"},
		{[]string{"predict", "-weights", badWeights, filepath.Join(dir, "nope.png")}, "nope.png"},
	} {
		code, _, errs := cli(t, tc.args...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 naming %q", tc.args, code, errs, tc.want)
		}
	}
}

func TestMalformedWeightsAreClearErrors(t *testing.T) {
	data := filepath.Join(testenv.Data(t), "exact", "test_batch.bin")
	dir := t.TempDir()
	lenet := filepath.Join(dir, "lenet5.safetensors")
	if code, _, errs := cli(t, "train", "-model", "lenet5", "-data", data, "-limit", "64", "-epochs", "1", "-save", lenet); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	raw, err := os.ReadFile(lenet)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.safetensors")
	os.WriteFile(truncated, raw[:len(raw)-10], 0o644)
	huge := filepath.Join(dir, "huge.safetensors")
	os.WriteFile(huge, append([]byte{0, 0, 0, 0, 0, 0, 0, 0x7f}, raw[8:]...), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "-weights", truncated, "-data", data}, "truncated.safetensors"},
		{[]string{"eval", "-weights", huge, "-data", data}, "huge.safetensors"},
		{[]string{"eval", "-model", "resnet18", "-weights", lenet, "-data", data}, "holds lenet5 weights, not resnet18"},
		{[]string{"train", "-model", "resnet18", "-init", lenet, "-data", data}, "lenet5"},
		{[]string{"train", "-resume", lenet + ".missing", "-data", data}, "missing"},
	} {
		code, _, errs := cli(t, tc.args...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 naming %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestTrainOnGPU trains LeNet5 on real images with -device gpu (on this
// machine and in CI: Mesa's lavapipe, a CPU emulation of a Vulkan GPU).
func TestTrainOnGPU(t *testing.T) {
	needGPU(t)
	exact := filepath.Join(testenv.Data(t), "exact")
	logPath := filepath.Join(t.TempDir(), "log.jsonl")
	code, out, errs := cli(t, "train", "-device", "gpu", "-data", filepath.Join(exact, "data_batch_1.bin"), "-limit", "1024",
		"-test", filepath.Join(exact, "test_batch.bin"), "-batch", "64", "-epochs", "1", "-save", filepath.Join(t.TempDir(), "w.safetensors"), "-log", logPath, "-log-grads", "4")
	if code != 0 {
		t.Fatalf("train -device gpu: exit %d\n%s", code, errs)
	}
	if !strings.Contains(errs, "device: gpu (") {
		t.Errorf("train -device gpu does not say which adapter it uses:\n%s", errs)
	}
	t.Log(out)
	steps, epochs := readLog(t, logPath)
	if len(steps) != 16 || len(epochs) != 1 {
		t.Fatalf("log has %d steps and %d epochs, want 16 and 1", len(steps), len(epochs))
	}
	for i, s := range steps {
		if int(s["step"].(float64)) != i+1 {
			t.Fatalf("log step %d is %v", i+1, s)
		}
		checkGradNorms(t, s, (i+1)%4 == 0)
	}
	if acc := epochs[0]["test_accuracy"].(float64); acc < 0.15 {
		t.Errorf("test accuracy after one epoch on 1,024 images: %.3f", acc)
	}
}

// TestTrainSurvivesALostGPU loses the GPU in the middle of train -device
// gpu (CIFARLAB_GPU_LOSE_AFTER, a fault the backend injects after its Nth
// submit): train says so, goes on from its copy of the weights on the host
// on a new device, and finishes its epochs.
func TestTrainSurvivesALostGPU(t *testing.T) {
	needGPU(t)
	t.Setenv("CIFARLAB_GPU_LOSE_AFTER", "60")
	exact := filepath.Join(testenv.Data(t), "exact")
	logPath := filepath.Join(t.TempDir(), "log.jsonl")
	save := filepath.Join(t.TempDir(), "w.safetensors")
	code, out, errs := cli(t, "train", "-device", "gpu", "-data", filepath.Join(exact, "data_batch_1.bin"), "-limit", "512",
		"-test", filepath.Join(exact, "test_batch.bin"), "-batch", "64", "-epochs", "2", "-save", save, "-log", logPath)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	for _, want := range []string{"the GPU was lost", "going on from step"} {
		if !strings.Contains(errs, want) {
			t.Errorf("train's messages do not say %q:\n%s", want, errs)
		}
	}
	t.Log(out, errs)
	steps, epochs := readLog(t, logPath)
	if len(epochs) != 2 || int(epochs[1]["step"].(float64)) != 16 {
		t.Fatalf("log has %d epochs (want 2, the last at step 16)\n%s", len(epochs), errs)
	}
	// The steps after the copy are trained again, so some step numbers
	// appear twice; every step up to 16 is there.
	seen := map[int]bool{}
	for _, s := range steps {
		seen[int(s["step"].(float64))] = true
	}
	if len(seen) != 16 || len(steps) <= 16 {
		t.Errorf("log has %d step lines for %d steps; want all 16 and some twice\n%s", len(steps), len(seen), errs)
	}
	w, err := net.ReadWeights(save)
	if err != nil || w.Meta["step"] != "16" {
		t.Errorf("checkpoint after the run: %v, step %q", err, w.Meta["step"])
	}
}

// With only a CPU emulation of a GPU, -device auto takes the CPU backend
// and says why.
func TestDeviceAutoPrefersCPUToAnEmulatedGPU(t *testing.T) {
	emulated := needGPU(t)
	if !emulated {
		t.Skip("this machine has a real GPU")
	}
	code, _, errs := cli(t, "bench", "-device", "auto", "-steps", "1", "-batch", "8")
	if code != 0 || !strings.Contains(errs, "device: cpu (") || !strings.Contains(errs, "CPU emulation") {
		t.Errorf("bench -device auto: exit %d\n%s", code, errs)
	}
}

// The GPU branch of -device auto, reached on a machine whose only adapter is
// an emulation by counting it as a GPU: bench trains on it and reports, in
// its JSON, both throughputs, what a step sends to the device and the
// device memory held.
func TestDeviceAutoTakesAGPU(t *testing.T) {
	needGPU(t)
	t.Setenv("CIFARLAB_AUTO_GPU", "emulation")
	code, out, errs := cli(t, "bench", "-device", "auto", "-model", "lenet5", "-steps", "2", "-batch", "8", "-json", "-profile")
	if code != 0 || !strings.Contains(errs, "device: gpu (") {
		t.Fatalf("bench -device auto: exit %d\n%s", code, errs)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench -json: %v\n%s", err, out)
	}
	for _, k := range []string{"train_images_per_s", "step_latency_images_per_s", "dispatches_per_step", "submits_per_step", "device_memory_bytes", "device_bytes_per_step"} {
		if v, ok := r[k].(float64); !ok || !(v > 0) {
			t.Errorf("bench -json: %s = %v, want a positive number\n%s", k, r[k], out)
		}
	}
	// -profile: every kernel of the step, timed, with the convolutions'
	// FLOPs.
	ks, _ := r["kernels"].([]any)
	var flops, ms float64
	for _, k := range ks {
		m := k.(map[string]any)
		flops += m["gflop"].(float64)
		ms += m["ms"].(float64)
	}
	if len(ks) < 10 || !(ms > 0) || !(flops > 0) {
		t.Errorf("bench -profile: %d kernels, %v ms, %v GFLOP per step\n%s", len(ks), ms, flops, out)
	}
}

// needGPU skips t (fails it under CIFARLAB_REQUIRE=gpu) without a GPU
// adapter, and reports whether the adapter is a CPU emulation.
func needGPU(t *testing.T) (emulated bool) {
	t.Helper()
	g, err := gpu.Open(gpu.Options{})
	if err != nil {
		testenv.GPU(t, err)
	}
	defer g.Close()
	return g.CPUEmulation()
}

// readLog parses a -log file.
func readLog(t *testing.T, path string) (steps, epochs []map[string]any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %q is not JSON: %v", path, sc.Text(), err)
		}
		switch m["event"] {
		case "step":
			steps = append(steps, m)
		case "epoch":
			epochs = append(epochs, m)
		}
	}
	return steps, epochs
}

// TestTrainLearnsOnRealData trains LeNet5 on the 4,000 exact training
// images, tests on the 1,000 exact test images, and checks the log, the
// checkpoint, eval and predict against each other.
// checkGradNorms checks a LeNet5 step line of the log: with want, a
// positive gradient norm for each of its 10 parameters by state-dict name;
// without, none.
func checkGradNorms(t *testing.T, step map[string]any, want bool) {
	t.Helper()
	norms, ok := step["grad_norms"].(map[string]any)
	if ok != want {
		t.Fatalf("step %v: grad_norms %v, want them: %v", step["step"], step["grad_norms"], want)
	}
	if !want {
		return
	}
	if len(norms) != 10 {
		t.Errorf("step %v: %d gradient norms, want LeNet5's 10 parameters", step["step"], len(norms))
	}
	for _, name := range []string{"conv_unit.0.weight", "conv_unit.2.bias", "fc_unit.4.weight"} {
		if v, ok := norms[name].(float64); !ok || !(v > 0) {
			t.Errorf("step %v: gradient norm of %s is %v", step["step"], name, norms[name])
		}
	}
}

func TestTrainLearnsOnRealData(t *testing.T) {
	exact := filepath.Join(testenv.Data(t), "exact")
	dir := t.TempDir()
	save, logPath := filepath.Join(dir, "lenet5.safetensors"), filepath.Join(dir, "log.jsonl")
	code, out, errs := cli(t, "train", "-model", "lenet5", "-data", filepath.Join(exact, "data_batch_1.bin"),
		"-test", filepath.Join(exact, "test_batch.bin"), "-epochs", "4", "-batch", "32", "-save", save, "-log", logPath)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	t.Log(out)
	steps, epochs := readLog(t, logPath)
	if len(steps) != 4*125 || len(epochs) != 4 {
		t.Fatalf("log has %d steps and %d epochs, want 500 and 4", len(steps), len(epochs))
	}
	for i, s := range steps {
		if int(s["step"].(float64)) != i+1 || int(s["epoch"].(float64)) != i/125+1 {
			t.Fatalf("log step %d is %v", i+1, s)
		}
		checkGradNorms(t, s, true)
	}
	first, last := epochs[0], epochs[3]
	acc := last["test_accuracy"].(float64)
	if acc < 0.25 {
		t.Errorf("test accuracy after 4 epochs is %.3f, want well above chance (0.1)", acc)
	}
	if last["train_loss"].(float64) >= first["train_loss"].(float64) {
		t.Errorf("train loss did not fall: %v then %v", first["train_loss"], last["train_loss"])
	}

	code, out, errs = cli(t, "eval", "-weights", save, "-data", filepath.Join(exact, "test_batch.bin"), "-json")
	if code != 0 {
		t.Fatalf("eval: %s", errs)
	}
	var ev struct {
		Accuracy  float64
		Loss      float64
		N         int
		PerClass  []float64 `json:"per_class"`
		Confusion [][]int
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("eval -json: %v: %s", err, out)
	}
	if ev.N != 1000 || ev.Accuracy != acc || len(ev.PerClass) != 10 || len(ev.Confusion) != 10 {
		t.Errorf("eval: %+v; want 1000 images at the last epoch's test accuracy %v", ev, acc)
	}

	code, out, errs = cli(t, "predict", "-weights", save, "-data", filepath.Join(exact, "test_batch.bin"), "-n", "5", "-json")
	if code != 0 {
		t.Fatalf("predict: %s", errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("predict -n 5 printed %d lines", len(lines))
	}
	for i, want := range []int{3, 8, 8, 0, 6} {
		var p struct {
			Index, Label, Pred int
			Probs              []float64
		}
		if err := json.Unmarshal([]byte(lines[i]), &p); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, q := range p.Probs {
			sum += q
		}
		if p.Index != i || p.Label != want || len(p.Probs) != 10 || sum < 0.999 || sum > 1.001 {
			t.Errorf("predict line %d: %s", i, lines[i])
		}
	}
}

func TestPredictImageFilesMatchesDataset(t *testing.T) {
	exact := filepath.Join(testenv.Data(t), "exact")
	dir := t.TempDir()
	save := filepath.Join(dir, "w.safetensors")
	if code, _, errs := cli(t, "train", "-data", filepath.Join(exact, "test_batch.bin"), "-limit", "256", "-epochs", "1", "-save", save); code != 0 {
		t.Fatal(errs)
	}
	// Image 0 of the test batch as a lossless PNG gives the same prediction.
	png := filepath.Join(dir, "cat.png")
	writePNG(t, png, filepath.Join(exact, "test_batch.bin"), 0)
	_, fromFile, errs := cli(t, "predict", "-weights", save, "-json", png)
	_, fromData, errs2 := cli(t, "predict", "-weights", save, "-json", "-n", "1", "-data", filepath.Join(exact, "test_batch.bin"))
	var a, b struct{ Probs []float64 }
	if json.Unmarshal([]byte(fromFile), &a) != nil || json.Unmarshal([]byte(fromData), &b) != nil {
		t.Fatalf("predict output: %q %q (%s %s)", fromFile, fromData, errs, errs2)
	}
	for i := range b.Probs {
		if d := a.Probs[i] - b.Probs[i]; d > 1e-6 || d < -1e-6 {
			t.Errorf("class %d: %v from the PNG, %v from the dataset", i, a.Probs[i], b.Probs[i])
		}
	}
}

// Only the desktop viewer keeps the main OS thread that ebiten's init
// locks; every other subcommand releases it (see main).
func TestOnlyDesktopNeedsMainThread(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"desktop"}, true},
		{[]string{"desktop", "-model", "resnet18"}, true},
		{[]string{"train", "-model", "lenet5"}, false},
		{[]string{"bench"}, false},
		{[]string{"serve", "desktop"}, false},
	} {
		if got := needsMainThread(c.args); got != c.want {
			t.Errorf("needsMainThread(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}

// -limit takes the images from the classes in turn: on a file ordered by
// class (as image folders are), the first 50 images would all be
// airplanes, while -limit 50 trains on five of each class.
func TestLimitIsClassBalanced(t *testing.T) {
	exact := filepath.Join(testenv.Data(t), "exact")
	raw, err := os.ReadFile(filepath.Join(exact, "data_batch_1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	const n, size = 1000, 3073
	var sorted []byte
	for c := byte(0); c < 10; c++ {
		for i := 0; i < n; i++ {
			if r := raw[i*size : (i+1)*size]; r[0] == c {
				sorted = append(sorted, r...)
			}
		}
	}
	data := filepath.Join(t.TempDir(), "sorted.bin")
	if err := os.WriteFile(data, sorted, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(t, "train", "-data", data, "-limit", "50", "-batch", "25", "-epochs", "1", "-device", "cpu")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	if strings.Contains(errs, "hold no") || !strings.Contains(out, "50 images") {
		t.Errorf("stdout %q\nstderr %q", out, errs)
	}
}

// site with a -data it cannot read fails before writing anything.
func TestSiteBadDataWritesNothing(t *testing.T) {
	site := t.TempDir()
	for _, name := range []string{"index.html", "cifarlab.js", "cifarlab-worker.js", "wasm_exec.js", "cifarlab.wasm", "cifarlab-worker.wasm"} {
		if err := os.WriteFile(filepath.Join(site, name), []byte(`<meta name="cifarlab-wasm" content="cifarlab.wasm">`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	code, _, errs := cli(t, "site", "-site", site, "-out", out, "-data", filepath.Join(t.TempDir(), "missing.tar.gz"))
	if code != 1 || !strings.Contains(errs, "missing.tar.gz") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was made: %v", out, err)
	}
}
