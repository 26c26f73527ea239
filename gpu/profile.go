package gpu

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// KernelStats is what the dispatches of one kernel did since Open, counted
// from the shapes each dispatch binds, so that a run on any GPU can be
// read against its bandwidth and arithmetic rate.
type KernelStats struct {
	Kernel     string // "file:entry", e.g. "conv.wgsl:conv_forward"
	Dispatches int64
	Workgroups int64
	// Bytes of the storage bindings of the dispatches: read-only ones
	// count as read, read-write ones as written (a kernel that also reads
	// what it writes, such as Adam's moments, reads them as well).
	BytesRead, BytesWritten int64
	// FLOPs of the matrix products (2 per multiply-add of the convolution
	// or linear layer computed; the kernels' padding not counted), 0 for
	// the other kernels.
	FLOPs int64
	// Time is, with Options.Profile, the wall time of the kernel's
	// dispatches, each submitted alone and waited for: the kernel's own
	// time on the device plus one submit and wait each. Without Profile, 0.
	Time time.Duration
}

// Kernels returns the statistics of every kernel dispatched since Open,
// the kernel that moved the most bytes first; the difference of two calls
// counts what happened between them (see KernelsSince).
func (b *Backend) Kernels() []KernelStats {
	out := make([]KernelStats, 0, len(b.kstats))
	for _, s := range b.kstats {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(x, y KernelStats) int {
		return cmp.Or(cmp.Compare(y.BytesRead+y.BytesWritten, x.BytesRead+x.BytesWritten), cmp.Compare(x.Kernel, y.Kernel))
	})
	return out
}

// KernelsSince is after's statistics less those of before (two calls of
// Kernels), dropping the kernels not dispatched in between.
func KernelsSince(before, after []KernelStats) []KernelStats {
	old := map[string]KernelStats{}
	for _, s := range before {
		old[s.Kernel] = s
	}
	var out []KernelStats
	for _, s := range after {
		o := old[s.Kernel]
		d := KernelStats{Kernel: s.Kernel, Dispatches: s.Dispatches - o.Dispatches, Workgroups: s.Workgroups - o.Workgroups,
			BytesRead: s.BytesRead - o.BytesRead, BytesWritten: s.BytesWritten - o.BytesWritten, FLOPs: s.FLOPs - o.FLOPs, Time: s.Time - o.Time}
		if d.Dispatches > 0 {
			out = append(out, d)
		}
	}
	return out
}

// SetProfile turns Options.Profile on or off for the dispatches recorded
// from now on.
func (b *Backend) SetProfile(on bool) { b.opts.Profile = on }

// TimestampNote says how the backend times kernels: WebGPU's timestamp
// queries inside compute passes would time them on the device, but
// gogpu/wgpu (v0.34) offers no timestamp writes for compute passes, so
// Options.Profile times each dispatch from the host instead.
const TimestampNote = "measured from the host, each dispatch submitted alone and waited for (gogpu/wgpu has no compute-pass timestamp queries): the times include a submit and a wait each"

// countDispatch adds one dispatch of k over groups workgroups with the
// given storage regions and FLOPs to k's statistics; firstRead, when not
// 0, is what the kernel reads of its first binding (the records of a batch
// out of a whole dataset).
func (b *Backend) countDispatch(k *kernel, groups uint64, flops, firstRead int64, regions []region) *KernelStats {
	if b.kstats == nil {
		b.kstats = map[*kernel]*KernelStats{}
	}
	s := b.kstats[k]
	if s == nil {
		s = &KernelStats{Kernel: k.name()}
		b.kstats[k] = s
	}
	s.Dispatches++
	s.Workgroups += int64(groups)
	for i, r := range regions {
		n := int64(r.size)
		if i == 0 && firstRead > 0 {
			n = firstRead
		}
		if k.slots[i].access == read {
			s.BytesRead += n
		} else {
			s.BytesWritten += n
		}
		b.counts.DeviceBytes += n
	}
	s.FLOPs += flops
	return s
}

// noteFLOPs sets the FLOPs of the next dispatch, the product of the op
// being recorded.
func (b *Backend) noteFLOPs(n int) { b.flopsNext = int64(n) }

// timeDispatch, with Options.Profile, submits the dispatch just recorded
// alone and waits for it, adding the time to s.
func (b *Backend) timeDispatch(op string, s *KernelStats) {
	t0 := time.Now()
	if err := b.flush(); err != nil {
		return
	}
	if err := b.device.WaitIdle(); err != nil {
		b.fail(op, fmt.Errorf("wait for the device (profiling): %w", err))
		return
	}
	s.Time += time.Since(t0)
}
