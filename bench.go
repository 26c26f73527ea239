package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"cifarlab/gpu"
	"cifarlab/net"
)

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	model := registerModel(fs, "lenet5", "")
	device := newChoice("auto", devices...)
	fs.Var(device, "device", "auto, cpu or gpu")
	batch := fs.Int("batch", 256, "images per step")
	steps := fs.Int("steps", 10, "timed steps (after 2 warm-up steps)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	gradNorms := fs.Bool("grad-norms", false, "measure every parameter's gradient norm in every step, as train -log does")
	profile := fs.Bool("profile", false, "on a GPU: also time every kernel (each dispatch submitted alone and waited for), per kernel family")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return flagError(fs, "unexpected argument %q", fs.Arg(0))
	case *batch < 1:
		return flagError(fs, "-batch %d: must be at least 1", *batch)
	case *steps < 1:
		return flagError(fs, "-steps %d: must be at least 1", *steps)
	case *profile && device.value == "cpu":
		return flagError(fs, "-profile times the GPU's kernels: use it with -device gpu")
	}
	if err := model.check(fs); err != nil {
		return err
	}
	b, err := openBackend(device.value, stderr)
	if err != nil {
		return err
	}
	defer b.Close()
	if _, ok := b.(*gpu.Backend); *profile && !ok {
		return fmt.Errorf("-profile times a GPU's kernels, and the benchmark would run on %s", b.Name())
	}
	r, err := bench(b, model.name(), *batch, *steps, *gradNorms, *profile)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	gn := ""
	if r.GradNorms {
		gn = ", measuring gradient norms"
	}
	fmt.Fprintf(stdout, "%s on %s, batch %d%s, %d steps:\n", r.Model, r.Device, r.Batch, gn, r.Steps)
	fmt.Fprintf(stdout, "  training, steps in a row as train runs them %8.2f ms/step  %8.0f images/s\n", r.TrainStepMS, r.TrainImagesPerS)
	fmt.Fprintf(stdout, "  one step waited for (median latency)         %8.2f ms       %8.0f images/s\n", r.StepLatencyMS, r.StepLatencyImagesPerS)
	fmt.Fprintf(stdout, "  eval forward (median)                        %8.2f ms       %8.0f images/s\n", r.EvalForwardMS, r.EvalImagesPerS)
	if r.DispatchesPerStep != nil {
		fmt.Fprintf(stdout, "  per training step: %.0f dispatches, %.1f submits, %.0f bytes read back, %.1f MB of device memory bound\n",
			*r.DispatchesPerStep, *r.SubmitsPerStep, *r.BytesReadPerStep, *r.DeviceBytesPerStep/1e6)
	}
	if len(r.Kernels) > 0 {
		printKernels(stdout, r.Kernels, r.KernelTiming)
	}
	if r.DeviceMemory != nil {
		fmt.Fprintf(stdout, "  device memory held %.1f MiB\n", float64(*r.DeviceMemory)/(1<<20))
	}
	if r.MaxRSSMiB > 0 {
		fmt.Fprintf(stdout, "  peak resident memory %.0f MiB\n", r.MaxRSSMiB)
	}
	return nil
}

type benchResult struct {
	Model     string `json:"model"`
	Device    string `json:"device"`
	Batch     int    `json:"batch"`
	Steps     int    `json:"steps"`
	GradNorms bool   `json:"grad_norms"`
	// Training as `train` does it: Steps steps of one epoch, submitted
	// one after another with one read-back of the statistics in flight.
	TrainStepMS     float64 `json:"train_step_ms"`
	TrainImagesPerS float64 `json:"train_images_per_s"`
	// One step at a time, each waited for (Trainer.Step), the median.
	StepLatencyMS         float64 `json:"step_latency_ms"`
	StepLatencyImagesPerS float64 `json:"step_latency_images_per_s"`
	EvalForwardMS         float64 `json:"eval_forward_ms"`
	EvalImagesPerS        float64 `json:"eval_images_per_s"`
	MaxRSSMiB             float64 `json:"max_rss_mib,omitempty"`
	// On a GPU: what one training step sends to the device and reads back.
	DispatchesPerStep *float64 `json:"dispatches_per_step,omitempty"`
	SubmitsPerStep    *float64 `json:"submits_per_step,omitempty"`
	BytesReadPerStep  *float64 `json:"bytes_read_per_step,omitempty"`
	// Bytes of device memory the step's dispatches bind, read and written.
	DeviceBytesPerStep *float64 `json:"device_bytes_per_step,omitempty"`
	// With -profile: per kernel, per step.
	Kernels      []kernelProfile `json:"kernels,omitempty"`
	KernelTiming string          `json:"kernel_timing,omitempty"`
	// The bytes of device memory the backend holds after training.
	DeviceMemory *int64 `json:"device_memory_bytes,omitempty"`
}

// counting is a backend that counts the work it sends to a device.
type counting interface{ Counters() gpu.Counters }

// bench times whole training steps and eval forwards on random images;
// with profile (on a GPU), then steps more steps with every dispatch timed
// (gpu.Backend.SetProfile), for the table per kernel.
func bench(b net.Backend, model string, batch, steps int, gradNorms, profile bool) (benchResult, error) {
	res := benchResult{Model: model, Device: b.Name(), Batch: batch, Steps: steps, GradNorms: gradNorms}
	n, err := net.New(b, model, 10, 1)
	if err != nil {
		return res, err
	}
	defer n.Free()
	rng := rand.New(rand.NewPCG(1, 2))
	recs, err := b.UploadRecords(randomRecords(max(2, steps)*batch), net.InputShape)
	if err != nil {
		return res, err
	}
	defer b.Free(recs)
	cfg := net.TrainConfig{Batch: batch, Norm: norm}
	if gradNorms {
		cfg.GradNormsEvery = 1
	}
	tr, err := net.NewTrainer(b, n, cfg, 1e-3)
	if err != nil {
		return res, err
	}
	defer tr.Free()
	index := make([]int32, batch)
	var train, eval []time.Duration
	var before gpu.Counters
	for s := 0; s < steps+2; s++ {
		if c, ok := b.(counting); ok && s == 2 {
			before = c.Counters()
		}
		randomIndex(rng, index, recs.Len())
		t0 := time.Now()
		if _, err := tr.Step(recs, index, nil); err != nil {
			return res, err
		}
		if s >= 2 {
			train = append(train, time.Since(t0))
		}
	}
	if c, ok := b.(counting); ok {
		after, n := c.Counters(), float64(steps)
		d, sub, r := float64(after.Dispatches-before.Dispatches)/n, float64(after.Submits-before.Submits)/n, float64(after.BytesRead-before.BytesRead)/n
		db := float64(after.DeviceBytes-before.DeviceBytes) / n
		res.DispatchesPerStep, res.SubmitsPerStep, res.BytesReadPerStep, res.DeviceBytesPerStep = &d, &sub, &r, &db
	}
	// Then an epoch of steps·batch images as train runs it: on a GPU the
	// host records the next step while the device runs this one.
	tr.Epoch, tr.Batch = 0, 0
	ep, err := tr.RunEpoch(context.Background(), recs, nil)
	if err != nil {
		return res, err
	}
	if _, ok := b.(net.Pooling); ok {
		held := net.MemoryHeld(b)
		res.DeviceMemory = &held
	}
	x := b.NewTensor(append(net.Shape{batch}, net.InputShape...))
	defer b.Free(x)
	labels := b.NewIntTensor(net.Shape{batch})
	defer b.Free(labels)
	out := make([]float32, batch*n.Classes)
	for s := 0; s < steps+2; s++ {
		b.Gather(x, labels, recs, index, nil, 0, norm)
		t0 := time.Now()
		logits := n.Forward(x, false)
		if err := b.Download(out, logits); err != nil {
			return res, err
		}
		if s >= 2 {
			eval = append(eval, time.Since(t0))
		}
	}
	res.TrainStepMS = ms(ep.Duration) / float64(tr.Batches(ep.Images))
	res.TrainImagesPerS = float64(ep.Images) / ep.Duration.Seconds()
	res.StepLatencyMS = ms(median(train))
	res.StepLatencyImagesPerS = float64(batch) / median(train).Seconds()
	res.EvalForwardMS = ms(median(eval))
	res.EvalImagesPerS = float64(batch) / median(eval).Seconds()
	if g, ok := b.(*gpu.Backend); ok && profile {
		if res.Kernels, err = profileKernels(g, tr, recs, rng, index, steps); err != nil {
			return res, fmt.Errorf("-profile: %w", err)
		}
		res.KernelTiming = gpu.TimestampNote
	}
	res.MaxRSSMiB = maxRSSMiB()
	return res, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// randomIndex fills index with random record numbers below n.
func randomIndex(rng *rand.Rand, index []int32, n int) {
	for i := range index {
		index[i] = int32(rng.IntN(n))
	}
}

// randomRecords are n records of random pixels and labels.
func randomRecords(n int) []byte {
	rng := rand.New(rand.NewPCG(5, 6))
	data := make([]byte, n*(1+net.InputShape.Len()))
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	for i := 0; i < len(data); i += 1 + net.InputShape.Len() {
		data[i] %= 10
	}
	return data
}

// kernelProfile is one kernel's share of a training step.
type kernelProfile struct {
	Kernel       string  `json:"kernel"`
	Dispatches   float64 `json:"dispatches"`
	Workgroups   float64 `json:"workgroups"`
	BytesRead    float64 `json:"bytes_read"`
	BytesWritten float64 `json:"bytes_written"`
	GFLOP        float64 `json:"gflop"`
	MS           float64 `json:"ms"`
}

// profileKernels trains steps more steps with tr on g, timing every
// dispatch, and returns each kernel's share of one step, the slowest first.
func profileKernels(g *gpu.Backend, tr *net.Trainer, recs net.Records, rng *rand.Rand, index []int32, steps int) ([]kernelProfile, error) {
	g.SetProfile(true)
	defer g.SetProfile(false)
	before := g.Kernels()
	for range steps {
		randomIndex(rng, index, recs.Len())
		if _, err := tr.Step(recs, index, nil); err != nil {
			return nil, err
		}
	}
	var out []kernelProfile
	k := float64(steps)
	for _, s := range gpu.KernelsSince(before, g.Kernels()) {
		out = append(out, kernelProfile{Kernel: s.Kernel, Dispatches: float64(s.Dispatches) / k, Workgroups: float64(s.Workgroups) / k,
			BytesRead: float64(s.BytesRead) / k, BytesWritten: float64(s.BytesWritten) / k, GFLOP: float64(s.FLOPs) / k / 1e9, MS: ms(s.Time) / k})
	}
	slices.SortFunc(out, func(a, b kernelProfile) int { return cmp.Compare(b.MS, a.MS) })
	return out, nil
}

// printKernels prints the profile as a table.
func printKernels(w io.Writer, ks []kernelProfile, timing string) {
	var total float64
	for _, k := range ks {
		total += k.MS
	}
	fmt.Fprintf(w, "  per kernel and step; the times are %s:\n", timing)
	fmt.Fprintf(w, "    %-52s %6s %9s %9s %9s %8s %9s %6s\n", "kernel", "disp", "groups", "MB read", "MB write", "GFLOP", "ms", "share")
	for _, k := range ks {
		share := 0.0
		if total > 0 {
			share = 100 * k.MS / total
		}
		fmt.Fprintf(w, "    %-52s %6.0f %9.0f %9.1f %9.1f %8.3f %9.3f %5.1f%%\n", k.Kernel, k.Dispatches, k.Workgroups,
			k.BytesRead/1e6, k.BytesWritten/1e6, k.GFLOP, k.MS, share)
	}
}
