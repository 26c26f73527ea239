package gpu

import (
	"math/rand/v2"
	"testing"

	"cifarlab/net"
)

// TestPack packs tensors of awkward sizes: their contents stay, uploads and
// downloads reach them at their offsets, AdamAll over four packed lists
// equals Adam on each tensor bit for bit in one dispatch, lists packed
// otherwise are refused, and the shared buffer goes when the last tensor
// is freed.
func TestPack(t *testing.T) {
	b := open(t, Options{})
	shapes := []net.Shape{{7}, {3, 5}, {1}, {65, 3}}
	rng := rand.New(rand.NewPCG(1, 2))
	values := func() [][]float32 {
		var vs [][]float32
		for _, s := range shapes {
			v := make([]float32, s.Len())
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			vs = append(vs, v)
		}
		return vs
	}
	make4 := func(init [4][][]float32) [4][]net.Tensor {
		var out [4][]net.Tensor
		for k := range out {
			for i, s := range shapes {
				x := b.NewTensor(s)
				b.Upload(x, init[k][i])
				out[k] = append(out[k], x)
			}
		}
		return out
	}
	init := [4][][]float32{values(), values(), values(), values()}
	for i := range init[3] { // v ≥ 0
		for j, x := range init[3][i] {
			init[3][i][j] = x * x
		}
	}
	loose, packed := make4(init), make4(init)
	held := b.MemoryHeld()
	for _, l := range packed {
		b.Pack(l)
	}
	for i, x := range packed[0] {
		got := make([]float32, shapes[i].Len())
		if err := b.Download(got, x); err != nil {
			t.Fatal(err)
		}
		for j := range got {
			if got[j] != init[0][i][j] {
				t.Fatalf("packed tensor %d [%d] = %v, was %v", i, j, got[j], init[0][i][j])
			}
		}
	}
	p := net.AdamParams{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Step: 3}
	d0 := b.Counters().Dispatches
	if !b.AdamAll(packed[0], packed[1], packed[2], packed[3], p) {
		t.Fatal("AdamAll refused lists packed alike")
	}
	if d := b.Counters().Dispatches - d0; d != 1 {
		t.Errorf("AdamAll made %d dispatches, want 1", d)
	}
	for i := range shapes {
		b.Adam(loose[0][i], loose[1][i], loose[2][i], loose[3][i], p)
	}
	for k := range 4 {
		for i := range shapes {
			want, got := make([]float32, shapes[i].Len()), make([]float32, shapes[i].Len())
			if err := b.Download(want, loose[k][i]); err != nil {
				t.Fatal(err)
			}
			if err := b.Download(got, packed[k][i]); err != nil {
				t.Fatal(err)
			}
			for j := range got {
				if got[j] != want[j] {
					t.Fatalf("list %d tensor %d [%d]: AdamAll %v, Adam %v", k, i, j, got[j], want[j])
				}
			}
		}
	}
	if b.AdamAll(packed[0], packed[1], packed[2], loose[3], p) || b.AdamAll(packed[0][:2], packed[1][:2], packed[2][:2], packed[3][:2], p) {
		t.Error("AdamAll took lists not packed alike")
	}
	before := b.MemoryHeld()
	for _, l := range packed {
		for _, x := range l[:len(l)-1] {
			b.Free(x)
		}
	}
	if b.MemoryHeld() != before {
		t.Errorf("a packed buffer went with some of its tensors still in use")
	}
	for _, l := range packed {
		b.Free(l[len(l)-1])
	}
	if err := b.Submit(); err != nil {
		t.Fatal(err)
	}
	b.TrimMemory()
	if b.MemoryHeld() >= held {
		t.Errorf("after freeing every packed tensor the backend holds %d bytes, %d before packing", b.MemoryHeld(), held)
	}
}
