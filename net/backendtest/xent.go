package backendtest

import (
	"fmt"
	"testing"

	"cifarlab/net"
)

type xentCase struct{ n, k int }

func (c xentCase) name() string { return fmt.Sprintf("n%d_k%d", c.n, c.k) }

func xentCases(p Profile) []xentCase {
	cs := []xentCase{{3, 10}, {5, 7}, {17, 11}, {1, 1}, {4, 2}}
	if p == Standard {
		cs = append(cs, xentCase{256, 10}, xentCase{9, 1000})
	}
	return cs
}

// xentData returns logits N(0,3²) with outliers ±150 (exp overflows float32
// without the max subtraction) and labels. When k ≥ 2, rows 0, 1 and 2
// have their maximum tied at two classes a < z, with labels a, z and a:
// counting the first maximum gives 2 correct among them, the last maximum
// 1 and "the label is a maximum" 3.
func xentData(rnd *gen, c xentCase) ([]float32, []int32) {
	logits := rnd.normal(c.n*c.k, 3)
	labels := make([]int32, c.n)
	for i := range labels {
		labels[i] = int32(rnd.r.IntN(c.k))
	}
	if c.k >= 2 {
		a, z := 0, c.k-1
		if c.k >= 6 {
			a, z = 2, 5
		}
		for row := 0; row < min(3, c.n); row++ {
			v := logits[row*c.k : (row+1)*c.k]
			top := v[0]
			for _, x := range v {
				top = max(top, x)
			}
			v[a], v[z] = top+1, top+1
			labels[row] = int32(a)
			if row == 1 {
				labels[row] = int32(z)
			}
		}
	}
	return logits, labels
}

// CheckSoftmaxCrossEntropy checks dlogits against the reference and finite
// differences of the mean loss, and the loss and correct count written to
// two slots of a stats tensor whose other slots must stay untouched.
func CheckSoftmaxCrossEntropy(t *testing.T, b net.Backend, p Profile) {
	const slots, sentinel = 4, -123.25
	for i, c := range xentCases(p) {
		ls := net.Shape{c.n, c.k}
		rnd := newGen(uint64(40000 + i))
		logits, labels := xentData(rnd, c)
		logits2, labels2 := xentData(rnd, c)
		L := ArrayOf(ls, logits)
		ref, ref2 := RefSoftmaxCrossEntropy(L, labels), RefSoftmaxCrossEntropy(ArrayOf(ls, logits2), labels2)

		t.Run("SoftmaxCrossEntropy/"+c.name(), func(t *testing.T) {
			s := newSession(t, b)
			stats := s.tensor(net.Shape{slots, 2}, fill(2*slots, sentinel))
			dl := s.dst(ls)
			b.SoftmaxCrossEntropy(dl, stats, 2, s.tensor(ls, logits), s.ints(net.Shape{c.n}, labels))
			got := s.get(dl)
			checkClose(t, "dlogits vs reference", got, ref.DLogits, tolXent)
			mean := func() float64 { return RefSoftmaxCrossEntropy(L, labels).Loss }
			idx := newGen(uint64(41000+i)).sample(ls.Len(), fdCount(ls.Len()))
			fdL := memo("SoftmaxCrossEntropy/"+c.name()+"/fd", func() []float64 { return fd(mean, L.Data, idx, 1e-4) })
			checkAt(t, "dlogits vs finite differences of the mean loss", ls, got, fdL, idx, nil, tolXent)

			want := NewArray(net.Shape{slots, 2})
			for j := range want.Data {
				want.Data[j] = sentinel
			}
			want.Data[4], want.Data[5] = ref.Loss, float64(ref.Correct)
			checkClose(t, "stats after slot 2 (mean loss, correct)", s.get(stats), want, tolXent)

			// A second batch into slot 0 leaves slot 2 as it was.
			b.SoftmaxCrossEntropy(dl, stats, 0, s.tensor(ls, logits2), s.ints(net.Shape{c.n}, labels2))
			want.Data[0], want.Data[1] = ref2.Loss, float64(ref2.Correct)
			checkClose(t, "stats after slot 0", s.get(stats), want, tolXent)
			checkClose(t, "dlogits of the second batch", s.get(dl), ref2.DLogits, tolXent)
		})
	}
}
