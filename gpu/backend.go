package gpu

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"cifarlab/net"
)

// Options configures Open.
type Options struct {
	// Timeout bounds every wait for the device (Download, ReadLater's
	// function): past it the device counts as lost. 0 means 2 minutes.
	Timeout time.Duration
	// MaxRecordsBinding caps the bytes of one buffer of dataset records
	// (0: the device's largest storage binding). Tests lower it to split
	// small datasets into several buffers.
	MaxRecordsBinding uint64

	// backends restricts the native backends tried (0: Vulkan, Metal and
	// DX12). Tests use it to offer only gogpu's Software adapter.
	backends gputypes.Backends
	// kernels picks the staged or unstaged matrix-product kernels (auto:
	// unstaged on a CPU emulation). Tests use it to run both.
	kernels kernelChoice

	// Waiting, when set, is told how long a read-back has waited for the
	// device, every WaitReport (0: 5 s) while it waits, and 0 once it ends
	// after such a report: a hung device shows at once, not only when
	// Timeout declares it lost. It is called on the waiting goroutine.
	Waiting    func(waited time.Duration)
	WaitReport time.Duration

	// Profile times every dispatch (see KernelStats.Time): each is
	// submitted alone and waited for, which makes a step far slower than
	// it is. For `cifarlab bench -profile`.
	Profile bool
}

// kernelChoice is which variant of the kernels that stage blocks in
// workgroup memory a backend runs.
type kernelChoice int

const (
	autoKernels     kernelChoice = iota // unstaged on a CPU emulation, else staged
	stagedKernels                       // always staged
	unstagedKernels                     // always unstaged
)

// DefaultTimeout is Options.Timeout's default: a wait for the device that
// lasts longer counts as a lost device.
const DefaultTimeout = 2 * time.Minute

// Errors a failure wraps, for errors.Is.
var (
	errDeviceLost  = net.ErrDeviceLost
	errOutOfMemory = errors.New("out of GPU memory")
	errClosed      = errors.New("the backend is closed")
)

// Backend implements net.Backend with WebGPU compute shaders.
//
// Ops record dispatches into one command encoder; Submit sends them to the
// device at once, and nothing is read back inside a step. Ops do not return
// errors: the first failure (a shader that does not compile, a pipeline or
// buffer the device cannot make, a lost device) is recorded, later ops are
// skipped, and Submit, Download and ReadLater's function return it, wrapped
// with the op that met it. Shape misuse panics, as in the CPU backend.
//
// A Backend is not safe for concurrent use.
type Backend struct {
	opts     Options
	instance *wgpu.Instance
	adapter  *wgpu.Adapter
	device   *wgpu.Device
	queue    *wgpu.Queue
	info     gputypes.AdapterInfo
	limits   gputypes.Limits // of the device
	cpu      bool            // the adapter emulates a GPU on the CPU
	// unstaged: run the unstaged variants of the kernels that have one.
	// On a CPU emulation each workgroup barrier costs every invocation a
	// coroutine switch, and a LeNet5 pipeline with barriers took over a second
	// to compile in SwiftShader, 70-120 ms without (BENCHMARKS.md).
	unstaged bool

	errMu sync.Mutex
	err   error // first failure

	modules   map[string]*wgpu.ShaderModule
	pipelines map[*kernel]*pipeline
	groups    map[groupKey]*wgpu.BindGroup
	groupsOf  map[*buffer][]groupKey

	live       map[*buffer]struct{} // every buffer not yet destroyed
	nbuf       int                  // buffers created, for labels
	tensors    *pool
	stagings   *pool
	freeChunks []*chunk
	spare      *buffer // bound where a binding is unused; see unused
	rec        recorder
	counts     Counters
	closed     bool
	detach     func() // removes the browser's error listeners
	loseAfter  int64  // submits after which LoseDevice is called (0: never)
	// lost is set when the browser reports the device lost (lostSignal:
	// it can), which may come after the failure it causes, such as a
	// rejected mapAsync.
	lost       atomic.Bool
	lostSignal bool
	kstats     map[*kernel]*KernelStats
	flopsNext  int64 // FLOPs of the next dispatch, noted by its op
	// firstReadNext, when not 0, is what the next dispatch reads of its
	// first binding, noted by its op (see countDispatch).
	firstReadNext int64
}

var _ net.BatchNormAddBackend = (*Backend)(nil)

// Counters count the work sent to the device since Open.
type Counters struct {
	Dispatches int64 // compute dispatches recorded
	Submits    int64 // command buffers submitted
	BytesRead  int64 // bytes copied back to the host (Download, ReadLater)
	// DeviceBytes are the bytes of device memory the dispatches bind, read
	// and written (see KernelStats).
	DeviceBytes int64
}

// Counters returns the counts so far; the difference of two calls counts
// what happened between them.
func (b *Backend) Counters() Counters { return b.counts }

// Open creates a backend on the best WebGPU adapter: natively a Vulkan,
// Metal or DX12 one (a discrete GPU before an integrated one, a CPU
// emulation such as Mesa's lavapipe last), in the browser the page's
// WebGPU adapter. gogpu's Software adapter is never used: its compute
// results are wrong. Without a usable adapter Open returns an error naming
// what it found.
//
// The device gets the adapter's largest storage binding and buffer sizes;
// everything else keeps WebGPU's defaults, which the shaders are written
// for. In the browser Open waits for JavaScript promises: call it from a
// goroutine, never from a JavaScript callback.
func Open(opts Options) (*Backend, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.WaitReport <= 0 {
		opts.WaitReport = 5 * time.Second
	}
	b := &Backend{
		opts:      opts,
		modules:   map[string]*wgpu.ShaderModule{},
		pipelines: map[*kernel]*pipeline{},
		groups:    map[groupKey]*wgpu.BindGroup{},
		groupsOf:  map[*buffer][]groupKey{},
		live:      map[*buffer]struct{}{},
		tensors:   newPool(usageTensor, "tensor"),
		stagings:  newPool(usageStaging, "staging"),
		loseAfter: loseAfter(),
	}
	var err error
	if b.instance, b.adapter, err = requestAdapter(opts.backends); err != nil {
		return nil, err
	}
	b.info = adapterInfo(b.adapter)
	b.cpu = b.info.DeviceType == gputypes.DeviceTypeCPU
	b.unstaged = opts.kernels == unstagedKernels || opts.kernels == autoKernels && b.cpu
	b.device, err = b.adapter.RequestDevice(&wgpu.DeviceDescriptor{
		Label:          "cifarlab",
		RequiredLimits: requiredLimits(b.adapter.Limits()),
	})
	if err != nil {
		b.adapter.Release()
		b.instance.Release()
		return nil, fmt.Errorf("gpu: request a device of %s: %w", b.describe(), err)
	}
	b.queue = b.device.Queue()
	b.limits = deviceLimits(b.device, b.adapter.Limits())
	b.detach = b.listen()
	return b, nil
}

// describe is "NAME, BACKEND, TYPE", e.g. "llvmpipe (LLVM 15.0.6, 256
// bits), Vulkan, cpu".
func (b *Backend) describe() string {
	typ := "gpu"
	switch b.info.DeviceType {
	case gputypes.DeviceTypeCPU:
		typ = "cpu"
	case gputypes.DeviceTypeDiscreteGPU:
		typ = "discrete gpu"
	case gputypes.DeviceTypeIntegratedGPU:
		typ = "integrated gpu"
	case gputypes.DeviceTypeVirtualGPU:
		typ = "virtual gpu"
	}
	return fmt.Sprintf("%s, %s, %s", b.info.Name, b.info.Backend, typ)
}

// Name is "gpu (ADAPTER, BACKEND, TYPE)", e.g.
// "gpu (llvmpipe (LLVM 15.0.6, 256 bits), Vulkan, cpu)".
func (b *Backend) Name() string { return "gpu (" + b.describe() + ")" }

// CPUEmulation reports whether the adapter emulates a GPU on the CPU (Mesa's
// lavapipe, SwiftShader): it works but is slower than the CPU backend, so
// `-device auto` prefers that one.
func (b *Backend) CPUEmulation() bool { return b.cpu }

// Adapter describes the adapter the backend runs on.
func (b *Backend) Adapter() gputypes.AdapterInfo { return b.info }

// Limits are the device's limits.
func (b *Backend) Limits() gputypes.Limits { return b.limits }

// fail records the first failure, wrapped with the op that met it. A
// failure of gogpu's that says the device is lost also wraps
// net.ErrDeviceLost, which callers test for to go on elsewhere.
func (b *Backend) fail(op string, err error) {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	if b.err == nil {
		if errors.Is(err, wgpu.ErrDeviceLost) && !errors.Is(err, errDeviceLost) {
			err = fmt.Errorf("%w: %w", errDeviceLost, err)
		}
		b.err = fmt.Errorf("gpu: %s: %w", op, err)
	}
}

// MayLoseDevice is true: a GPU device can be lost (net.MayLoseDevice).
func (b *Backend) MayLoseDevice() bool { return true }

// markLost records that the device is lost; a failure recorded before,
// which the loss caused, is kept but now wraps net.ErrDeviceLost too.
func (b *Backend) markLost(msg string) {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	b.lost.Store(true)
	if b.err != nil && !errors.Is(b.err, errDeviceLost) {
		b.err = fmt.Errorf("gpu: device lost (%s): %w, after which %w", msg, errDeviceLost, b.err)
	}
}

// awaitLost gives the browser's device-lost signal up to d to arrive after
// a failure that the loss may have caused, so that the failure is known
// for what it is. Natively, and once the device is known lost, it returns
// at once.
func (b *Backend) awaitLost(d time.Duration) {
	if !b.lostSignal {
		return
	}
	for end := time.Now().Add(d); !b.lost.Load() && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
}

// LoseDevice makes the backend act as if its device were lost: the ops
// recorded are dropped at the next Submit, and every later Submit,
// Download and read fails with an error wrapping net.ErrDeviceLost. It
// injects the fault for tests of what the callers do then; the device
// itself stays until Close. Unlike the backend's other methods it may be
// called from any goroutine, as a real loss comes.
func (b *Backend) LoseDevice() {
	b.fail("device lost", fmt.Errorf("simulated by LoseDevice: %w", errDeviceLost))
}

// loseAfterEnv, CIFARLAB_GPU_LOSE_AFTER=N in the environment, loses the
// device of the first backend the process opens after its Nth submit (see
// LoseDevice), so that a test can follow a command through a lost device
// and onto the next one.
const loseAfterEnv = "CIFARLAB_GPU_LOSE_AFTER"

// faultTaken is set once a backend has taken CIFARLAB_GPU_LOSE_AFTER.
var faultTaken atomic.Bool

func loseAfter() int64 {
	n, err := strconv.ParseInt(os.Getenv(loseAfterEnv), 10, 64)
	if err != nil || n < 1 || !faultTaken.CompareAndSwap(false, true) {
		return 0
	}
	return n
}

// failure is the first failure, or nil.
func (b *Backend) failure() error {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.err
}

func (b *Backend) failed() bool { return b.failure() != nil }

// Submit sends the ops recorded since the last Submit to the device in one
// command buffer and returns the first failure met so far.
func (b *Backend) Submit() error {
	if b.closed {
		return fmt.Errorf("gpu: Submit: %w", errClosed)
	}
	return b.flush()
}

// Close waits for the device, then releases every buffer, bind group,
// pipeline and shader the backend made, the device, the adapter and the
// instance. Tensors must not be used afterwards.
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	b.endPass("Close")
	b.discard()
	b.fail("Close", errClosed) // later ops record nothing
	b.closed = true
	if b.detach != nil {
		b.detach()
	}
	err := b.device.WaitIdle()
	for _, g := range b.groups {
		g.Release()
	}
	clear(b.groups)
	clear(b.groupsOf)
	for _, p := range b.pipelines {
		p.release()
	}
	clear(b.pipelines)
	for _, m := range b.modules {
		m.Release()
	}
	clear(b.modules)
	for buf := range b.live {
		if buf.buf.MapState() != wgpu.MapStateUnmapped {
			_ = buf.buf.Unmap()
		}
		buf.buf.Release()
	}
	clear(b.live)
	b.freeChunks = nil
	b.spare = nil
	b.tensors = newPool(usageTensor, "tensor")
	b.stagings = newPool(usageStaging, "staging")
	b.device.Release()
	b.adapter.Release()
	b.instance.Release()
	if err != nil {
		return fmt.Errorf("gpu: Close: wait for the device: %w", err)
	}
	return nil
}
