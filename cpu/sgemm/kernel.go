package sgemm

import "fmt"

// kernelFunc computes the mr×nr tile
//
//	C = Σ_p a[p·mr+i]·b[p·ldb+j]           when load is false (C is not read),
//	C = Σ_p a[p·mr+i]·b[p·ldb+j] + beta·C  when load is true,
//
// for 0 ≤ p < kc, 0 ≤ i < mr, 0 ≤ j < nr, with C[i][j] at c[i·ldc+j].
// a is a packed A micro-panel (kc columns of mr values), b holds kc rows of
// nr values at stride ldb (a packed B micro-panel has ldb = nr). kc ≥ 1.
type kernelFunc func(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32)

// kernel is a micro-kernel with its register block and the cache blocks
// that suit it.
type kernel struct {
	name   string
	mr, nr int // register block: fn computes an mr×nr tile of C
	// Cache blocks: a kc×nr micro-panel of packed B stays in L1 while the
	// micro-panels of an mc×kc block of packed A stream past it from L2;
	// the kc×nc block of packed B also fits in L2 (1 MiB at kc = 256,
	// nc = 1024), so that a product with few rows, which reads it only
	// once, reads it back from there. mc is a multiple of mr and nc of nr.
	kc, mc, nc int
	speed      float64 // relative flops per cycle, to choose among kernels
	fn         kernelFunc
	// column, when set, computes count full tiles down one panel of B in
	// one call: tile t with A's panel at a[t·mr·kc:] and C at c[t·mr·ldc:].
	column func(count, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32)
	// rows, when set, is fn with row p of B at b[offs[p]:] (GemmRows).
	rows func(kc int, a, b []float32, offs []int, c []float32, ldc int, load bool, beta float32)
	// directRows is the most rows of C for which B is read where it lies
	// rather than packed (3·mr when 0).
	directRows int
}

// direct is the most rows of C for which B is read where it lies.
func (k *kernel) direct() int {
	if k.directRows > 0 {
		return k.directRows
	}
	return 3 * k.mr
}

// maxMR and maxNR bound the register blocks of all kernels.
const (
	maxMR = 12
	maxNR = 32
)

// Register block of the portable kernel.
const (
	goMR = 6
	goNR = 16
)

var goKernel = &kernel{name: "go", mr: goMR, nr: goNR, kc: 256, mc: 168, nc: 1024, speed: 0.1, fn: kernelGo}

// kernels lists the micro-kernels this CPU runs; goKernel is always last.
var kernels = []*kernel{goKernel}

// Kernel names the micro-kernel Gemm uses for large products on this
// machine, e.g. "avx512 12×32", for reports of benchmark results.
func Kernel() string {
	k := kernels[0]
	return fmt.Sprintf("%s %d×%d", k.name, k.mr, k.nr)
}

// forceKernel, when set, is used for every product. Tests set it to cover
// each kernel on any machine.
var forceKernel *kernel

// pickKernel returns the kernel expected to compute an m×n product
// fastest: the fastest one, unless its register block is so large that a
// slower one with less padding of edge tiles wins.
func pickKernel(m, n int) *kernel {
	if forceKernel != nil {
		return forceKernel
	}
	best, bestRate := kernels[0], 0.0
	for _, k := range kernels {
		rows := (m + k.mr - 1) / k.mr * k.mr
		cols := (n + k.nr - 1) / k.nr * k.nr
		if rate := k.speed * float64(m) / float64(rows) * float64(n) / float64(cols); rate > bestRate {
			best, bestRate = k, rate
		}
	}
	return best
}

// checkKernelArgs panics unless the operands of an mr×nr kernel call are in
// range; the assembly and WebAssembly kernels do not check.
func checkKernelArgs(mr, nr, kc int, a, b []float32, ldb int, c []float32, ldc int) {
	if kc < 1 || len(a) < kc*mr || len(b) < (kc-1)*ldb+nr || len(c) < (mr-1)*ldc+nr {
		panic("sgemm: micro-kernel operands out of range")
	}
}

// checkKernelRows panics unless the operands of an mr×nr rows kernel call
// are in range. The offsets themselves were checked once, by GemmRows.
func checkKernelRows(mr, nr, kc int, a, b []float32, offs []int, c []float32, ldc int) {
	if kc < 1 || len(a) < kc*mr || len(offs) < kc || len(b) < nr || len(c) < (mr-1)*ldc+nr {
		panic("sgemm: micro-kernel operands out of range")
	}
}

// kernelGo is the portable goMR×goNR micro-kernel. It walks the tile in 2×4
// blocks so that the eight accumulators and the six operands of a step stay
// in registers.
//
// It sums in float64 and rounds once at the end. The assembly kernels fuse
// each multiply-add (one rounding per term), which Go does only where the
// target has a fused instruction (arm64, not wasm or amd64 v1); summed in
// float32 with a rounding after each product as well, the block networks'
// input and first-layer gradients came out 1–3% away from PyTorch's
// float64 (TestGoldenBlockNetworks under CIFARLAB_SGEMM=go), where PyTorch's
// own float32 is within 1e-6. In WebAssembly float64 costs no more than
// float32 (BenchmarkKernel in Chromium: about 3 GFLOP/s either way).
func kernelGo(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	a = a[:kc*goMR]
	_ = b[(kc-1)*ldb+goNR-1]
	_ = c[(goMR-1)*ldc+goNR-1]
	for i := 0; i < goMR; i += 2 {
		for j := 0; j < goNR; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float64
			for p := 0; p < kc; p++ {
				bp := b[p*ldb+j : p*ldb+j+4 : p*ldb+j+4]
				ap := a[p*goMR+i : p*goMR+i+2 : p*goMR+i+2]
				a0, a1 := float64(ap[0]), float64(ap[1])
				b0, b1, b2, b3 := float64(bp[0]), float64(bp[1]), float64(bp[2]), float64(bp[3])
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			r0 := c[i*ldc+j : i*ldc+j+4 : i*ldc+j+4]
			r1 := c[(i+1)*ldc+j : (i+1)*ldc+j+4 : (i+1)*ldc+j+4]
			if load {
				bt := float64(beta)
				c00 += bt * float64(r0[0])
				c01 += bt * float64(r0[1])
				c02 += bt * float64(r0[2])
				c03 += bt * float64(r0[3])
				c10 += bt * float64(r1[0])
				c11 += bt * float64(r1[1])
				c12 += bt * float64(r1[2])
				c13 += bt * float64(r1[3])
			}
			r0[0], r0[1], r0[2], r0[3] = float32(c00), float32(c01), float32(c02), float32(c03)
			r1[0], r1[1], r1[2], r1[3] = float32(c10), float32(c11), float32(c12), float32(c13)
		}
	}
}
