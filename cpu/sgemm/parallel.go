package sgemm

import (
	"runtime"
	"sync"
)

// parMinFlops is the smallest product (in flops, 2·m·n·k) that is split
// across goroutines; below it the cost of waking them outweighs the gain.
const parMinFlops = 1 << 21

// kSplitMinK is the least inner dimension per goroutine for a split along k.
const kSplitMinK = 512

// kSplitMaxMN bounds m·n for a split along k, which needs an m×n buffer
// for each extra goroutine and a pass to add them up.
const kSplitMaxMN = 1 << 16

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
	case max(effM, effN) < 0.9 && p.k >= threads*kSplitMinK && p.m*p.n <= kSplitMaxMN:
		return splitK, threads
	case effN > effM || effN == effM && p.m <= p.n:
		// Each goroutine packs all of A: the cheaper choice when A is
		// the smaller operand.
		return splitN, min(threads, nTiles)
	default:
		return splitM, min(threads, mTiles)
	}
}

// run computes p, on several goroutines when it is large enough.
func run(p *problem) {
	how, nt := plan(p)
	switch how {
	case splitNone:
		computeSerial(p)
	case splitN:
		nr := p.kern.nr
		nTiles := (p.n + nr - 1) / nr
		parallel(nt, func(t, nt int) {
			j0, j1 := share(nTiles, t, nt)
			q := p.cols(j0*nr, min(j1*nr, p.n))
			computeSerial(&q)
		})
	case splitM:
		mr := p.kern.mr
		mTiles := (p.m + mr - 1) / mr
		parallel(nt, func(t, nt int) {
			i0, i1 := share(mTiles, t, nt)
			q := p.rows(i0*mr, min(i1*mr, p.m))
			computeSerial(&q)
		})
	case splitK:
		runSplitK(p, nt)
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

func computeSerial(p *problem) {
	ws := wsPool.Get().(*workspace)
	gemmSerial(ws, p)
	wsPool.Put(ws)
}

// parallel runs f(t, nt) for t in 0..nt, f(0, nt) on the calling goroutine.
func parallel(nt int, f func(t, nt int)) {
	var wg sync.WaitGroup
	for t := 1; t < nt; t++ {
		wg.Go(func() { f(t, nt) })
	}
	f(0, nt)
	wg.Wait()
}

// runSplitK splits the inner dimension: goroutine 0 computes its share into C
// with the caller's beta, the others into private m×n sums that are then
// added to C.
func runSplitK(p *problem, nt int) {
	wss := make([]*workspace, nt)
	parallel(nt, func(t, nt int) {
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
