package cpu

import (
	"cifarlab/cpu/sgemm"
	"cifarlab/net"
)

// linearGrain is the number of rows per worker that makes at least about
// 32k multiply-adds of a row-split product with rowCost per row.
func linearGrain(rowCost int) int { return max(1, (1<<15)/max(rowCost, 1)) }

// Linear is y[N,O] = x[N,I]·w[O,I]ᵀ + b[O], rows split over the workers.
func (b *Backend) Linear(y, x, w, bias net.Tensor) {
	const op = "Linear"
	Y, X, W, B := tensor(op, "y", y), tensor(op, "x", x), tensor(op, "w", w), tensor(op, "b", bias)
	n, in := dims2(op, "x", X.shape)
	o, in2 := dims2(op, "w", W.shape)
	if in2 != in {
		panicf("%s: x %v has %d features, w %v expects %d", op, X.shape, in, W.shape, in2)
	}
	mustShape(op, "b", B.shape, o)
	mustShape(op, "y", Y.shape, n, o)
	b.parallel(n, linearGrain(in*o), func(_, lo, hi int) {
		out := Y.data[lo*o : hi*o]
		sgemm.Gemm(false, true, hi-lo, o, in, 1, X.data[lo*in:], in, W.data, in, 0, out, o)
		for r := 0; r < hi-lo; r++ {
			row := out[r*o : (r+1)*o]
			for j, bv := range B.data {
				row[j] += bv
			}
		}
	})
}

// LinearBackwardData is dx[N,I] = dy[N,O]·w[O,I].
func (b *Backend) LinearBackwardData(dx, dy, w net.Tensor) {
	const op = "LinearBackwardData"
	DX, DY, W := tensor(op, "dx", dx), tensor(op, "dy", dy), tensor(op, "w", w)
	n, o := dims2(op, "dy", DY.shape)
	o2, in := dims2(op, "w", W.shape)
	if o2 != o {
		panicf("%s: dy %v has %d features, w %v has %d outputs", op, DY.shape, o, W.shape, o2)
	}
	mustShape(op, "dx", DX.shape, n, in)
	b.parallel(n, linearGrain(in*o), func(_, lo, hi int) {
		sgemm.Gemm(false, false, hi-lo, in, o, 1, DY.data[lo*o:], o, W.data, in, 0, DX.data[lo*in:hi*in], in)
	})
}

// LinearBackwardParams is dw[O,I] = dyᵀ·x and db[O] = Σₙ dy, output rows
// split over the workers.
func (b *Backend) LinearBackwardParams(dw, db, dy, x net.Tensor) {
	const op = "LinearBackwardParams"
	DW, DB, DY, X := tensor(op, "dw", dw), tensor(op, "db", db), tensor(op, "dy", dy), tensor(op, "x", x)
	n, o := dims2(op, "dy", DY.shape)
	n2, in := dims2(op, "x", X.shape)
	if n2 != n {
		panicf("%s: dy %v and x %v have different batch sizes", op, DY.shape, X.shape)
	}
	mustShape(op, "dw", DW.shape, o, in)
	mustShape(op, "db", DB.shape, o)
	b.parallel(o, linearGrain(n*in), func(_, lo, hi int) {
		sgemm.Gemm(true, false, hi-lo, in, n, 1, DY.data[lo:], o, X.data, in, 0, DW.data[lo*in:hi*in], in)
		for j := lo; j < hi; j++ {
			var s float64
			for r := 0; r < n; r++ {
				s += float64(DY.data[r*o+j])
			}
			DB.data[j] = float32(s)
		}
	})
}
