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
	n, in, o := linearDims(net.LinearShapes(Y.shape, X.shape, W.shape, B.shape))
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
	n, in, o := linearDims(net.LinearBackwardDataShapes(DX.shape, DY.shape, W.shape))
	b.parallel(n, linearGrain(in*o), func(_, lo, hi int) {
		sgemm.Gemm(false, false, hi-lo, in, o, 1, DY.data[lo*o:], o, W.data, in, 0, DX.data[lo*in:hi*in], in)
	})
}

// LinearBackwardParams is dw[O,I] = dyᵀ·x and db[O] = Σₙ dy, output rows
// split over the workers.
func (b *Backend) LinearBackwardParams(dw, db, dy, x net.Tensor) {
	const op = "LinearBackwardParams"
	DW, DB, DY, X := tensor(op, "dw", dw), tensor(op, "db", db), tensor(op, "dy", dy), tensor(op, "x", x)
	n, in, o := linearDims(net.LinearBackwardParamsShapes(DW.shape, DB.shape, DY.shape, X.shape))
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

// linearDims is the batch, input and output sizes of a product checked
// by net, or a panic with its error.
func linearDims(d net.LinearDims, err error) (n, in, o int) {
	if err != nil {
		panicf("%v", err)
	}
	return d.N, d.In, d.Out
}
