package gpu

import (
	"testing"
	"time"

	"cifarlab/net"
)

// TestKernelStats counts a convolution and a batch gather: the FLOPs of
// the product, the bytes it binds, and of the dataset only the records of
// the batch; with Options.Profile every dispatch is also timed.
func TestKernelStats(t *testing.T) {
	for _, profile := range []bool{false, true} {
		b := open(t, Options{Profile: profile})
		x := b.NewTensor(net.Shape{2, 3, 8, 8})
		w := b.NewTensor(net.Shape{4, 3, 3, 3})
		y := b.NewTensor(net.Shape{2, 4, 6, 6})
		recs, err := b.UploadRecords(make([]byte, 200*(1+3*8*8)), net.Shape{3, 8, 8})
		if err != nil {
			t.Fatal(err)
		}
		labels := b.NewIntTensor(net.Shape{2})
		before, counts := b.Kernels(), b.Counters()
		b.Gather(x, labels, recs, []int32{3, 7}, nil, 0, net.Normalize{Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}})
		b.Conv2D(y, x, w, nil, net.ConvGeom{Stride: 1})
		if err := b.Submit(); err != nil {
			t.Fatal(err)
		}
		ks := KernelsSince(before, b.Kernels())
		var conv, gather *KernelStats
		var bound int64
		var timed time.Duration
		for i, k := range ks {
			bound += k.BytesRead + k.BytesWritten
			switch k.Kernel {
			case "gather.wgsl:gather":
				gather = &ks[i]
			default:
				if k.FLOPs > 0 {
					conv = &ks[i]
				}
			}
			timed += k.Time
			if !profile && k.Time != 0 {
				t.Errorf("without Profile %s was timed: %v", k.Kernel, k.Time)
			}
		}
		// The browser's clock is coarse: a short dispatch may read 0.
		if profile && timed <= 0 {
			t.Errorf("with Profile the kernels were timed %v in all", timed)
		}
		if conv == nil || gather == nil {
			t.Fatalf("profile %v: kernels %+v, want a convolution with FLOPs and the gather", profile, ks)
		}
		if want := int64(2 * 2 * 4 * 6 * 6 * 3 * 3 * 3); conv.FLOPs != want {
			t.Errorf("%s: %d FLOPs, want %d", conv.Kernel, conv.FLOPs, want)
		}
		if want := int64(4 * (2*3*8*8 + 4*3*3*3)); conv.BytesRead < want || conv.BytesWritten < 4*2*4*6*6 {
			t.Errorf("%s: %d bytes read, %d written; it binds x and w (%d bytes) and writes y", conv.Kernel, conv.BytesRead, conv.BytesWritten, want)
		}
		// It also reads its index list and normalisation table (a few KB).
		if recBytes, all := int64(2*(1+3*8*8)), int64(200*(1+3*8*8)); gather.BytesRead < recBytes || gather.BytesRead > recBytes+8192 {
			t.Errorf("gather read %d bytes; the batch's records are %d (of %d in the dataset)", gather.BytesRead, recBytes, all)
		}
		if d := b.Counters().DeviceBytes - counts.DeviceBytes; d != bound {
			t.Errorf("Counters.DeviceBytes grew by %d, the kernels bound %d", d, bound)
		}
	}
}

// TestWaitingReported: a read-back that waits longer than WaitReport tells
// Options.Waiting how long, and 0 when it ends.
func TestWaitingReported(t *testing.T) {
	var got []time.Duration
	b := open(t, Options{WaitReport: time.Millisecond, Waiting: func(d time.Duration) { got = append(got, d) }})
	x := b.NewTensor(net.Shape{64, 64, 16, 16})
	w := b.NewTensor(net.Shape{64, 64, 3, 3})
	y := b.NewTensor(net.Shape{64, 64, 16, 16})
	for range 2 {
		b.Conv2D(y, x, w, nil, net.ConvGeom{Stride: 1, Pad: 1})
	}
	out := make([]float32, 64*64*16*16)
	t0 := time.Now()
	if err := b.Download(out, y); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 5*time.Millisecond && len(got) == 0 {
		t.Skipf("the device finished in %v, before a report was due", d)
	}
	if len(got) < 2 || got[0] <= 0 || got[len(got)-1] != 0 {
		t.Errorf("Waiting heard %v; want a wait of more than 1 ms, then 0 at its end", got)
	}
}
