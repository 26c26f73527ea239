package sgemm

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parMinFlops is the smallest product (in flops, 2·m·n·k) that is split
// across goroutines; below it the cost of waking them outweighs the gain.
const parMinFlops = 1 << 21

// kSplitMinK is the least inner dimension per goroutine for a split along k.
const kSplitMinK = 512

// kSplitMaxMN bounds m·n for a split along k, which needs an m×n buffer
// for each extra goroutine and a pass to add them up; it is chosen when k is
// at least 8·max(m, n).
const kSplitMaxMN = 1 << 16

// maxShared bounds, in floats, an operand packed whole for all goroutines
// (64 MiB); a larger one is packed by each goroutine for itself.
const maxShared = 1 << 24

// chunksPerThread is how many pieces, per goroutine, a split along m or n
// deals out on demand, so that a goroutine slowed down by other work takes
// fewer of them. A piece is at least minChunkCols columns or mc rows, so
// that each block of A (B) loaded into L2 serves many micro-panels of B (A).
const (
	chunksPerThread = 4
	minChunkCols    = 512
)

// split is how a product is shared out among goroutines.
type split int

const (
	splitNone split = iota // one goroutine
	splitN                 // columns of C
	splitM                 // rows of C
	splitK                 // terms of the inner dimension
)

// plan chooses how many goroutines compute p and along which dimension.
func plan(p *problem) (split, int) {
	flops := 2 * float64(p.m) * float64(p.n) * float64(p.k)
	threads := min(runtime.GOMAXPROCS(0), int(flops/parMinFlops))
	if threads <= 1 {
		return splitNone, 1
	}
	mr, nr := p.kern.mr, p.kern.nr
	mTiles := (p.m + mr - 1) / mr
	nTiles := (p.n + nr - 1) / nr
	effM := balance(mTiles, threads)
	effN := balance(nTiles, threads)
	switch {
	case p.k >= threads*kSplitMinK && p.m*p.n <= kSplitMaxMN && p.k >= 8*max(p.m, p.n):
		// C is small and the inner dimension long (a weight gradient):
		// each goroutine packs and multiplies its own terms, and its
		// operand blocks stay in its L2.
		return splitK, threads
	case effN > effM || effN == effM && p.m <= p.n:
		return splitN, min(threads, nTiles)
	case !p.transB && p.m <= p.kern.direct() && nTiles >= threads:
		// Few rows, B read where it lies: split its columns rather than
		// pack it whole for a split of rows.
		return splitN, threads
	default:
		return splitM, min(threads, mTiles)
	}
}

// balance is the fraction of the time threads are busy when tiles
// equal-cost tiles are dealt out to them.
func balance(tiles, threads int) float64 {
	return float64(tiles) / float64(threads*((tiles+threads-1)/threads))
}

// share returns the range of the units 0..total that goroutine t of nt
// computes.
func share(total, t, nt int) (lo, hi int) {
	return total * t / nt, total * (t + 1) / nt
}

// run computes p, on several goroutines when it is large enough.
func run(p *problem) {
	if dk := pickDot(p); dk != nil {
		flops := 2 * float64(p.m) * float64(p.n) * float64(p.k)
		gemmDot(dk, p, min(runtime.GOMAXPROCS(0), max(1, int(flops/parMinFlops))))
		return
	}
	how, nt := plan(p)
	switch how {
	case splitNone:
		ws := wsPool.Get().(*workspace)
		gemmSerial(ws, p)
		wsPool.Put(ws)
	case splitN, splitM:
		runShared(p, how, nt)
	case splitK:
		runSplitK(p, nt)
	}
}

// parallel runs f(t) for t in 0..nt, f(0) on the calling goroutine.
func parallel(nt int, f func(t int)) {
	var wg sync.WaitGroup
	for t := 1; t < nt; t++ {
		wg.Go(func() { f(t) })
	}
	f(0)
	wg.Wait()
}

// runShared splits the columns (splitN) or rows (splitM) of C into chunks
// that nt goroutines take on demand. The operand all chunks need whole, A
// for columns and B for rows, is first packed once by all of them together.
func runShared(p *problem, how split, nt int) {
	ws0 := wsPool.Get().(*workspace)
	defer wsPool.Put(ws0)
	q := *p
	// Chunks are whole register blocks.
	unit, extent, minTiles := p.kern.nr, p.n, minChunkCols/p.kern.nr
	if how == splitM {
		unit, extent, minTiles = p.kern.mr, p.m, p.kern.mc/p.kern.mr
	}
	tiles := (extent + unit - 1) / unit
	chunkTiles := (tiles + chunksPerThread*nt - 1) / (chunksPerThread * nt)
	chunkTiles = min(max(chunkTiles, minTiles), (tiles+nt-1)/nt)
	chunks := (tiles + chunkTiles - 1) / chunkTiles
	nt = min(nt, chunks)
	if how == splitN {
		q.packedA = prepack(ws0, &q, nt, true)
	} else {
		q.packedB = prepack(ws0, &q, nt, false)
	}
	var next atomic.Int64
	parallel(nt, func(t int) {
		ws := ws0
		if t > 0 {
			ws = wsPool.Get().(*workspace)
			defer wsPool.Put(ws)
		}
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			lo, hi := c*chunkTiles*unit, min((c+1)*chunkTiles*unit, extent)
			var part problem
			if how == splitN {
				part = q.cols(lo, hi)
			} else {
				part = q.rows(lo, hi)
			}
			gemmSerial(ws, &part)
		}
	})
}

// prepack packs alpha·op(A) (isA) or op(B) of p whole into ws.shared, nt
// goroutines each taking a share of the blocks, in the layout of packed.
// It returns the zero packed, leaving each goroutine to pack for itself,
// when the operand is larger than maxShared.
func prepack(ws *workspace, p *problem, nt int, isA bool) packed {
	kn := p.kern
	unit, extent, block := kn.nr, p.n, kn.nc
	if isA {
		unit, extent, block = kn.mr, p.m, kn.mc
	}
	width := (extent + unit - 1) / unit * unit
	if p.k*width > maxShared {
		return packed{}
	}
	ws.shared = grow(ws.shared, p.k*width)
	data := ws.shared
	kb := blockSize(p.k, kn.kc, 1)
	kBlocks := (p.k + kb - 1) / kb
	xBlocks := (extent + block - 1) / block
	parallel(nt, func(t int) {
		lo, hi := share(kBlocks*xBlocks, t, nt)
		for u := lo; u < hi; u++ {
			pc, x := u/xBlocks*kb, u%xBlocks*block
			kc, xc := min(kb, p.k-pc), min(block, extent-x)
			dst := data[pc*width+x*kc:]
			if isA {
				packA(dst, p, x, xc, pc, kc)
			} else {
				packB(dst, p, pc, kc, x, xc)
			}
		}
	})
	return packed{data: data, width: width}
}

// runSplitK splits the inner dimension: goroutine 0 computes its share into C
// with the caller's beta, the others into private m×n sums that are then
// added to C.
func runSplitK(p *problem, nt int) {
	wss := make([]*workspace, nt)
	parallel(nt, func(t int) {
		k0, k1 := share(p.k, t, nt)
		q := p.depth(k0, k1)
		ws := wsPool.Get().(*workspace)
		wss[t] = ws
		if t > 0 {
			ws.sum = grow(ws.sum, p.m*p.n)
			q.c, q.ldc, q.beta = ws.sum, p.n, 0
		}
		gemmSerial(ws, &q)
	})
	for i := 0; i < p.m; i++ {
		cr := p.c[i*p.ldc : i*p.ldc+p.n]
		for _, ws := range wss[1:] {
			for j, v := range ws.sum[i*p.n : i*p.n+p.n] {
				cr[j] += v
			}
		}
	}
	for _, ws := range wss {
		wsPool.Put(ws)
	}
}
