package gpu

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"cifarlab/cpu"
	"cifarlab/internal/testenv"
	"cifarlab/net"
	"cifarlab/net/backendtest"
)

// open opens a backend for t, closed when t ends; without a usable adapter
// t skips (fails under CIFARLAB_REQUIRE=gpu).
func open(t *testing.T, opts Options) *Backend {
	t.Helper()
	b, err := Open(opts)
	if err != nil {
		testenv.GPU(t, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// kernelVariants opens a backend for each variant of the kernels that
// stage blocks in workgroup memory, staged and unstaged, for the tests
// that run both whatever the adapter's default.
func kernelVariants(t *testing.T) []struct {
	name string
	b    *Backend
} {
	return []struct {
		name string
		b    *Backend
	}{{"staged", open(t, Options{kernels: stagedKernels})}, {"unstaged", open(t, Options{kernels: unstagedKernels})}}
}

// ranVariant fails t unless b compiled the variant of k it was opened for
// and not the other.
func ranVariant(t *testing.T, b *Backend, k *kernel) {
	t.Helper()
	want, other := k, k.unstaged
	if b.unstaged {
		want, other = other, want
	}
	if b.pipelines[want] == nil || b.pipelines[other] != nil {
		t.Errorf("%s: want only %s compiled", b.Name(), want.name())
	}
}

// TestKernelVariantDefault: a CPU emulation runs the unstaged kernels by
// default, a GPU the staged ones.
func TestKernelVariantDefault(t *testing.T) {
	b := open(t, Options{})
	if b.unstaged != b.CPUEmulation() {
		t.Errorf("%s: unstaged kernels %v, want %v", b.Name(), b.unstaged, b.CPUEmulation())
	}
}

// TestConformance runs the conformance suite's families this backend
// implements: every shape on a GPU, where the larger ones reach the staged
// kernels' wide tiles; the small shapes on a slow (emulated) device.
func TestConformance(t *testing.T) {
	b := open(t, Options{})
	backendtest.Run(t, b, suiteProfile(b))
}

// suiteProfile is the conformance suite's profile for b: Standard on a
// GPU, Small on a CPU emulation.
func suiteProfile(b *Backend) backendtest.Profile {
	if b.CPUEmulation() {
		return backendtest.Small
	}
	return backendtest.Standard
}

// TestConformanceOtherVariant runs the suite's matrix-product families with
// the variant of their kernels the adapter does not use by default (the
// staged ones on a CPU emulation), so that both pass it everywhere.
func TestConformanceOtherVariant(t *testing.T) {
	kc := unstagedKernels
	if open(t, Options{}).unstaged {
		kc = stagedKernels
	}
	b := open(t, Options{kernels: kc})
	t.Logf("unstaged: %v", b.unstaged)
	backendtest.CheckConv2D(t, b, suiteProfile(b))
	backendtest.CheckLinear(t, b, suiteProfile(b))
}

// TestTrainingMatchesCPU: whole training steps of both networks on the GPU
// match the CPU backend: losses of 5 steps, and the state dict after 3.
func TestTrainingMatchesCPU(t *testing.T) {
	b := open(t, Options{})
	ref := cpu.New()
	defer ref.Close()
	backendtest.CheckTraining(t, b, ref, backendtest.Small)
}

// get submits and downloads x.
func get(t *testing.T, b *Backend, x net.Tensor) []float32 {
	t.Helper()
	if err := b.Submit(); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	out := make([]float32, x.Shape().Len())
	if err := b.Download(out, x); err != nil {
		t.Fatalf("Download: %v", err)
	}
	return out
}

// tensorOf uploads v as a new tensor freed when t ends.
func tensorOf(t *testing.T, b *Backend, s net.Shape, v []float32) net.Tensor {
	x := b.NewTensor(s)
	t.Cleanup(func() { b.Free(x) })
	if v != nil {
		b.Upload(x, v)
	}
	return x
}

// TestBarriers records a chain of dependent dispatches into one compute
// pass, each reading what the one before wrote, and checks that they stay
// in one pass and that every dispatch saw its predecessor's writes. WebGPU
// makes each dispatch its own synchronisation scope, so the barriers
// between them are the WebGPU implementation's (gogpu/wgpu natively,
// Chrome's Dawn in the browser), not this backend's. On lavapipe and
// SwiftShader, which run dispatches in order, the result cannot come out
// wrong: there the test checks the pass count and the arithmetic; only on
// a real GPU, which overlaps dispatches, would it catch a missing barrier.
// The backend places no barriers of its own; the orderings it is
// responsible for are those WebGPU leaves to it, and their tests fail on
// any device when one is broken: a write with the queue lands before every
// command buffer not yet submitted, so Upload submits the ops recorded
// before it (TestOrdering: without that submit, lavapipe gives the ReLU
// recorded before the upload the uploaded values), and a dispatch may not
// bind one buffer as writable and as anything else (TestAliasing).
func TestBarriers(t *testing.T) {
	b := open(t, Options{})
	const n, steps = 3 << 14, 101
	sh := net.Shape{n}
	v := make([]float32, n)
	ones := make([]float32, n)
	for i := range v {
		v[i] = float32(i%1000) - 500
		ones[i] = 1
	}
	x, y, one := tensorOf(t, b, sh, v), tensorOf(t, b, sh, nil), tensorOf(t, b, sh, ones)
	if err := b.Submit(); err != nil {
		t.Fatal(err)
	}
	passes := b.rec.passes
	src, dst := x, y
	for i := 0; i < steps; i++ {
		b.Add(dst, src, one)
		src, dst = dst, src
	}
	b.ReLU(dst, src) // src holds v + steps
	if got := b.rec.passes - passes; got != 1 {
		t.Errorf("%d dispatches took %d compute passes, want 1", steps+1, got)
	}
	got := get(t, b, dst)
	for i := range got {
		if want := max(v[i]+steps, 0); got[i] != want {
			t.Fatalf("element %d: got %g, want %g (a dispatch missed the writes of the one before)", i, got[i], want)
		}
	}
}

// TestDispatchFlattening runs ReLU over more elements than 65,535
// workgroups of 256 cover, so the dispatch spreads over x and y.
func TestDispatchFlattening(t *testing.T) {
	b := open(t, Options{})
	const n = 70000*256 + 77
	if x, y := b.workgroups((n + 255) / 256); y < 2 || uint64(x)*uint64(y) < (n+255)/256 {
		t.Fatalf("workgroups(%d) = %d×%d", (n+255)/256, x, y)
	}
	sh := net.Shape{n}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i % 65536)
		if i%3 == 0 {
			v[i] = -v[i]
		}
	}
	y := tensorOf(t, b, sh, nil)
	b.ReLU(y, tensorOf(t, b, sh, v))
	got := get(t, b, y)
	for i := range got {
		if want := max(v[i], 0); got[i] != want {
			t.Fatalf("element %d of %d: got %g, want %g", i, n, got[i], want)
		}
	}
}

func TestWorkgroups(t *testing.T) {
	b := &Backend{limits: gputypes.Limits{MaxComputeWorkgroupsPerDimension: 65535}}
	for _, g := range []uint64{1, 65535, 65536, 70000, 131070, 131071, 65535 * 65535} {
		x, y := b.workgroups(g)
		if x > 65535 || y > 65535 || uint64(x)*uint64(y) < g || uint64(x)*uint64(y-1) >= g {
			t.Errorf("workgroups(%d) = %d×%d", g, x, y)
		}
	}
}

// TestRecordsSplit uploads datasets larger than a (lowered) binding limit,
// so that they span several record buffers, and checks Gather against the
// reference for indices in every buffer, with and without crops; then runs
// the conformance checks of Gather with CIFAR-sized records split 4 to a
// buffer.
func TestRecordsSplit(t *testing.T) {
	img := net.Shape{3, 5, 7} // 106-byte records: buffers start mid-word
	rec := 1 + img.Len()
	const nrec = 23
	data := make([]byte, nrec*rec)
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(rnd.IntN(256))
	}
	for i := 0; i < nrec; i++ {
		data[i*rec] = byte(i)
	}
	norm := net.Normalize{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}
	index := []int32{22, 0, 7, 8, 15, 3, 22, 11, 12, 1}
	crops := make([]net.Crop, len(index))
	for i := range crops {
		crops[i] = net.Crop{DX: int32(i % 5), DY: int32((3 * i) % 5), Flip: i%2 == 0}
	}
	for _, perBuf := range []int{1, 2, 3, 7} {
		t.Run(fmt.Sprintf("%d_per_buffer", perBuf), func(t *testing.T) {
			b := open(t, Options{MaxRecordsBinding: uint64(perBuf*rec + 3)})
			recs, err := b.UploadRecords(data, img)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Free(recs)
			if want := (nrec + perBuf - 1) / perBuf; len(recs.(*records).chunks) != want {
				t.Fatalf("%d record buffers, want %d", len(recs.(*records).chunks), want)
			}
			for _, cr := range [][]net.Crop{nil, crops} {
				xs := append(net.Shape{len(index)}, img...)
				x, labels := tensorOf(t, b, xs, nil), b.NewIntTensor(net.Shape{len(index)})
				defer b.Free(labels)
				b.Gather(x, labels, recs, index, cr, 2, norm)
				want, wantLabels := backendtest.RefGather(data, img, index, cr, 2, norm)
				got := get(t, b, x)
				for i := range got {
					if d := math.Abs(float64(got[i]) - want.Data[i]); d > 1e-6+1e-6*math.Abs(want.Data[i]) {
						t.Fatalf("crops %v: x[%d] = %g, want %g", cr != nil, i, got[i], want.Data[i])
					}
				}
				gotLabels := make([]int32, len(index))
				if err := b.DownloadInt(gotLabels, labels); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(gotLabels, wantLabels) {
					t.Errorf("labels %v, want %v", gotLabels, wantLabels)
				}
			}
		})
	}
	t.Run("conformance", func(t *testing.T) {
		b := open(t, Options{MaxRecordsBinding: 4 * 3073})
		backendtest.CheckGather(t, b, backendtest.Small)
	})
}

// TestShaderFailure dispatches kernels whose shader does not compile or
// whose entry point is missing, and checks that Submit returns an error
// naming the op, that later ops record nothing, and that reads fail
// instead of returning values.
func TestShaderFailure(t *testing.T) {
	for _, c := range []struct{ name, src, entry, want string }{
		{"syntax", "@compute @workgroup_size(256) fn broken( {", "broken", "compile broken.wgsl"},
		{"undeclared", "@group(0) @binding(5) var<storage, read_write> dst_bits: array<u32>;\n" +
			"@compute @workgroup_size(256) fn broken() { dst_bits[0] = missing; }", "broken", "compile broken.wgsl"},
		{"entry", "@group(0) @binding(5) var<storage, read_write> dst_bits: array<u32>;\n" +
			"@compute @workgroup_size(256) fn other() { dst_bits[0] = 1u; }", "broken", "broken.wgsl:broken"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := open(t, Options{})
			k := &kernel{file: "broken.wgsl", source: c.src, entry: c.entry,
				params: reflect.TypeFor[elementwiseParams](), slots: []slot{{5, readWrite}}, workgroup: 256}
			x := tensorOf(t, b, net.Shape{10}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
			dispatch(b, "BrokenOp", k, 10, &elementwiseParams{N: 10}, x.(*Tensor).st.region())
			b.ReLU(x, x)
			err := b.Submit()
			if err == nil {
				t.Fatal("Submit returned no error")
			}
			if !strings.Contains(err.Error(), "BrokenOp") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error does not name the op and %q: %v", c.want, err)
			}
			t.Logf("Submit: %v", err)
			if err := b.Download(make([]float32, 10), x); err == nil {
				t.Error("Download after the failure returned no error")
			}
			if _, err := b.ReadLater(x)(); err == nil {
				t.Error("ReadLater after the failure returned no error")
			}
		})
	}
}

// TestOrdering checks that Upload lands between the ops recorded before
// and after it, and that ReadLater's function submits a copy that no
// Submit sent yet.
func TestOrdering(t *testing.T) {
	b := open(t, Options{})
	sh := net.Shape{5, 7}
	v, w := make([]float32, 35), make([]float32, 35)
	for i := range v {
		v[i], w[i] = float32(i)-17, float32(3*i)-50
	}
	x, y := tensorOf(t, b, sh, v), tensorOf(t, b, sh, nil)
	b.ReLU(y, x)
	b.Upload(x, w) // after the ReLU, before the Add
	b.Add(x, x, y)
	got := get(t, b, x)
	for i := range got {
		if want := w[i] + max(v[i], 0); got[i] != want {
			t.Fatalf("element %d: got %g, want %g", i, got[i], want)
		}
	}
	b.ReLU(y, x)
	read := b.ReadLater(y) // not submitted yet
	vals, err := read()
	if err != nil {
		t.Fatal(err)
	}
	for i := range vals {
		if want := max(got[i], 0); vals[i] != want {
			t.Fatalf("ReadLater element %d: got %g, want %g", i, vals[i], want)
		}
	}
	if _, err := read(); err == nil {
		t.Error("a second call of ReadLater's function returned no error")
	}

	// Right after a Submit, ReadLater sends its copy at once, so the read
	// does not wait for the ops recorded after it.
	read = b.ReadLater(y)
	if b.rec.enc != nil || len(b.rec.ops) != 0 {
		t.Errorf("ReadLater after a Submit left %d ops recorded", len(b.rec.ops))
	}
	b.Add(y, y, y)
	if vals, err = read(); err != nil {
		t.Fatal(err)
	}
	if len(b.rec.ops) == 0 {
		t.Error("reading submitted the ops recorded after ReadLater")
	}
	for i := range vals {
		if want := max(got[i], 0); vals[i] != want {
			t.Fatalf("second ReadLater element %d: got %g, want %g", i, vals[i], want)
		}
	}
}

// TestAliasing runs ops whose destination is also an input (WebGPU forbids
// binding one buffer as writable and readable storage in a dispatch) and
// compares them with the same ops on separate tensors.
func TestAliasing(t *testing.T) {
	b := open(t, Options{})
	sh := net.Shape{4, 10}
	rnd := rand.New(rand.NewPCG(5, 6))
	v := make([]float32, sh.Len())
	for i := range v {
		v[i] = float32(rnd.NormFloat64() * 3)
	}
	labels := b.NewIntTensor(net.Shape{4})
	defer b.Free(labels)
	b.UploadInt(labels, []int32{3, 0, 9, 4})
	stats := tensorOf(t, b, net.Shape{1, 2}, nil)

	logits, dl := tensorOf(t, b, sh, v), tensorOf(t, b, sh, nil)
	b.SoftmaxCrossEntropy(dl, stats, 0, logits, labels)
	want := get(t, b, dl)
	b.SoftmaxCrossEntropy(logits, stats, 0, logits, labels) // dlogits over logits
	if got := get(t, b, logits); !slices.Equal(got, want) {
		t.Errorf("in-place SoftmaxCrossEntropy: got %v, want %v", got, want)
	}

	x := tensorOf(t, b, sh, v)
	b.Add(x, x, x)
	b.ReLU(x, x)
	got := get(t, b, x)
	for i := range got {
		if w := max(v[i]+v[i], 0); got[i] != w {
			t.Fatalf("in-place Add and ReLU: element %d: got %g, want %g", i, got[i], w)
		}
	}
}

// TestSteadyState runs a training-step-like sequence (gather, forward,
// loss, backward, Adam, submit, one statistics read in flight) and checks
// that after the first steps a step creates no buffer, bind group,
// pipeline or shader module.
func TestSteadyState(t *testing.T) {
	b := open(t, Options{})
	img := net.Shape{3, 8, 8}
	const nrec, batch, classes = 40, 6, 10
	data := make([]byte, nrec*(1+img.Len()))
	rnd := rand.New(rand.NewPCG(7, 8))
	for i := range data {
		data[i] = byte(rnd.IntN(256))
	}
	for i := 0; i < nrec; i++ {
		data[i*(1+img.Len())] = byte(i % classes)
	}
	recs, err := b.UploadRecords(data, img)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Free(recs)
	norm := net.Normalize{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}
	feat := net.Shape{batch, img.Len()}
	w := tensorOf(t, b, feat, nil) // a stand-in parameter
	m, v := tensorOf(t, b, feat, nil), tensorOf(t, b, feat, nil)
	stats := tensorOf(t, b, net.Shape{1, 2}, nil)
	base := tensorOf(t, b, net.Shape{batch, classes}, make([]float32, batch*classes))
	var read func() ([]float32, error)
	// How many arena chunks a step finds busy depends on how far the GPU
	// lags behind (a chunk is reused once its submission completed), so
	// the arena is only bounded, not counted: chunks are left out
	// of buffers, and bind groups are counted up to the chunks they bind.
	type counts struct{ buffers, groups, pipelines, modules int }
	isArena := func(buf *buffer) bool { return buf != nil && strings.HasPrefix(buf.label, "cifarlab arena ") }
	arena := func() int {
		n := 0
		for buf := range b.live {
			if isArena(buf) {
				n++
			}
		}
		return n
	}
	count := func() counts {
		groups := map[groupKey]bool{}
		for k := range b.groups {
			k.uniform = nil
			for i, r := range k.regions {
				if isArena(r.buf) {
					k.regions[i] = region{}
				}
			}
			groups[k] = true
		}
		return counts{b.nbuf - arena(), len(groups), len(b.pipelines), len(b.modules)}
	}
	var warm counts
	for step := 1; step <= 12; step++ {
		x := b.NewTensor(append(net.Shape{batch}, img...))
		labels := b.NewIntTensor(net.Shape{batch})
		index := make([]int32, batch)
		crops := make([]net.Crop, batch)
		for i := range index {
			index[i] = int32(rnd.IntN(nrec))
			crops[i] = net.Crop{DX: int32(rnd.IntN(9)), DY: int32(rnd.IntN(9)), Flip: rnd.IntN(2) == 1}
		}
		b.Gather(x, labels, recs, index, crops, 4, norm)
		flat := b.Reshape(x, feat)
		h, y := b.NewTensor(feat), b.NewTensor(feat)
		b.Add(h, flat, w)
		b.ReLU(y, h)
		logits, dl := b.NewTensor(net.Shape{batch, classes}), b.NewTensor(net.Shape{batch, classes})
		b.Add(logits, base, base)
		b.SoftmaxCrossEntropy(dl, stats, 0, logits, labels)
		b.ReLUBackward(h, y, y)
		b.Adam(w, h, m, v, net.AdamParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Step: step})
		if err := b.Submit(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if read != nil {
			if _, err := read(); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		read = b.ReadLater(stats)
		for _, f := range []any{x, labels, h, y, logits, dl} {
			b.Free(f)
		}
		if step == 4 {
			warm = count()
		}
	}
	if _, err := read(); err != nil {
		t.Fatal(err)
	}
	t.Logf("after step 4: %+v", warm)
	if got := count(); got != warm {
		t.Errorf("steps 5 to 12 created GPU objects: after step 4 %+v, after step 12 %+v", warm, got)
	}
	// A step is recorded while at most the step before it runs (the one
	// before that was read back), so two chunks always suffice.
	if n := arena(); n > 2 {
		t.Errorf("%d arena chunks after 12 steps with at most one step in flight, want at most 2", n)
	}
}

// logCapture collects what gogpu logs through log/slog.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *logCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// collect runs the garbage collector until cleanups have had time to run.
func collect() {
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClose checks that Close releases every GPU object explicitly, with a
// read still in flight and records uploaded: nothing is left for the
// garbage collector, whose cleanups would log "released by GC" (the test
// first checks that a dropped buffer does log it).
func TestClose(t *testing.T) {
	logs := &logCapture{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil)))
	defer slog.SetDefault(old)

	b, err := Open(Options{})
	if err != nil {
		testenv.GPU(t, err)
	}
	if _, err := b.device.CreateBuffer(&wgpu.BufferDescriptor{Label: "dropped on purpose", Size: 256, Usage: usageTensor}); err != nil {
		t.Fatal(err)
	}
	collect()
	if !strings.Contains(logs.String(), "released by GC") {
		t.Logf("gogpu logged no warning for a dropped buffer; the check below proves less (log: %q)", logs.String())
	}
	logs.mu.Lock()
	logs.buf.Reset()
	logs.mu.Unlock()

	recs, err := b.UploadRecords(make([]byte, 5*(1+3*4*4)), net.Shape{3, 4, 4})
	if err != nil {
		t.Fatal(err)
	}
	x, labels := b.NewTensor(net.Shape{2, 3, 4, 4}), b.NewIntTensor(net.Shape{2})
	b.Gather(x, labels, recs, []int32{4, 1}, nil, 0, net.Normalize{Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}})
	y := b.NewTensor(x.Shape())
	b.ReLU(y, x)
	_ = b.ReadLater(y) // never read
	if err := b.Submit(); err != nil {
		t.Fatal(err)
	}
	b.ReLU(x, y) // recorded, never submitted
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(b.live) != 0 || len(b.groups) != 0 || len(b.pipelines) != 0 || len(b.modules) != 0 {
		t.Errorf("after Close: %d buffers, %d bind groups, %d pipelines, %d modules left",
			len(b.live), len(b.groups), len(b.pipelines), len(b.modules))
	}
	if err := b.Submit(); err == nil {
		t.Error("Submit after Close returned no error")
	}
	if err := b.Download(make([]float32, y.Shape().Len()), y); err == nil {
		t.Error("Download after Close returned no error")
	}
	b.Free(x) // freeing after Close is harmless
	b = nil
	collect()
	if s := logs.String(); strings.Contains(s, "released by GC") {
		t.Errorf("gogpu released objects the backend dropped:\n%s", s)
	}
}

// TestTimeout reads back after a long dispatch with a timeout too short to
// wait for it: the read is an error naming a lost or hung device, or, if
// the device was faster than the timeout, the right values; never zeros.
func TestTimeout(t *testing.T) {
	b := open(t, Options{})
	const n = 1 << 22
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i%7) + 1
	}
	x, y := tensorOf(t, b, net.Shape{n}, v), tensorOf(t, b, net.Shape{n}, nil)
	// Compile the kernels first (Add whose output is an input also copies
	// that input): in the browser that is a wait too.
	z := tensorOf(t, b, net.Shape{n}, nil)
	b.Add(z, x, z)
	get(t, b, z)
	b.opts.Timeout = time.Nanosecond
	for i := 0; i < 8; i++ {
		b.Add(y, x, y)
	}
	out := make([]float32, n)
	err := b.Download(out, y)
	if err == nil {
		t.Logf("the device finished within %v", b.opts.Timeout)
		for i := range out {
			if out[i] != 8*v[i] {
				t.Fatalf("element %d: got %g, want %g", i, out[i], 8*v[i])
			}
		}
		return
	}
	if !errors.Is(err, errDeviceLost) || !strings.Contains(err.Error(), "Download") {
		t.Errorf("error does not name Download and a lost device: %v", err)
	}
	if err := b.Submit(); err == nil {
		t.Error("Submit after the timeout returned no error")
	}
}

func TestName(t *testing.T) {
	b := open(t, Options{})
	info := b.Adapter()
	want := fmt.Sprintf("gpu (%s, %s, ", info.Name, info.Backend)
	if !strings.HasPrefix(b.Name(), want) || !strings.HasSuffix(b.Name(), ")") {
		t.Errorf("Name() = %q, want %q…", b.Name(), want)
	}
	if b.CPUEmulation() != (info.DeviceType == gputypes.DeviceTypeCPU) {
		t.Errorf("CPUEmulation() = %v for a %v adapter", b.CPUEmulation(), info.DeviceType)
	}
	l := b.Limits()
	t.Logf("%s: max storage binding %d MiB, max buffer %d MiB, %d workgroups per dimension",
		b.Name(), l.MaxStorageBufferBindingSize>>20, l.MaxBufferSize>>20, l.MaxComputeWorkgroupsPerDimension)
}

func TestSizeClass(t *testing.T) {
	prev := uint64(0)
	for n := uint64(1); n < 1<<20; n += 1 + n/7 {
		c := sizeClass(n)
		if c < n || c < 256 || c < prev || (n > 256 && 2*c > 3*n) {
			t.Fatalf("sizeClass(%d) = %d", n, c)
		}
		prev = c
	}
}

// TestBadLabel checks that a label outside [0, K), which the host cannot
// see on the device, makes the loss NaN rather than reading out of bounds.
func TestBadLabel(t *testing.T) {
	b := open(t, Options{})
	for _, bad := range []int32{10, -1} {
		logits, dl := tensorOf(t, b, net.Shape{3, 10}, make([]float32, 30)), tensorOf(t, b, net.Shape{3, 10}, nil)
		stats := tensorOf(t, b, net.Shape{1, 2}, nil)
		labels := b.NewIntTensor(net.Shape{3})
		b.UploadInt(labels, []int32{1, bad, 2})
		b.SoftmaxCrossEntropy(dl, stats, 0, logits, labels)
		if got := get(t, b, stats); !math.IsNaN(float64(got[0])) {
			t.Errorf("label %d: loss %g, want NaN", bad, got[0])
		}
		b.Free(labels)
	}
}
