//go:build js && wasm

package vec

import (
	_ "embed"
	"os"
	"unsafe"
)

//go:generate go run ./simdgen -dir .

// baseModule and relaxedModule are the WebAssembly modules of the SIMD128
// kernels, written by ./simdgen: relaxed.wasm has those that need relaxed
// SIMD (the fused multiply-add of the float32 tiles), simd.wasm the rest.
// Each shares the Go module's memory: the page instantiates it when this
// package asks (simdLoad) and forwards the calls of the imports below to it
// (site/cifarlab-simd.js), so a call passes pointers into Go's slices and
// nothing is copied. Counts n4 are groups of four floats; the wrappers do
// the rest of a slice in Go.
var (
	//go:embed simd.wasm
	baseModule []byte
	//go:embed relaxed.wasm
	relaxedModule []byte
)

// simdLoad instantiates the module bytes as the page's module "base" or
// "relaxed" (kind 0 or 1), reporting 1 on success and 0 where the browser
// cannot compile it.
//
//go:wasmimport cifarlab_simd load
func simdLoad(kind int32, module unsafe.Pointer, size int32) int32

//go:wasmimport cifarlab_simd tiles64
func simdTiles64(kc int32, a, b unsafe.Pointer, ldb int32, c unsafe.Pointer, ldc int32, load int32, beta float32, count int32)

//go:wasmimport cifarlab_simd tiles
func simdTiles(kc int32, a, b unsafe.Pointer, ldb int32, c unsafe.Pointer, ldc int32, load int32, beta float32, count int32)

//go:wasmimport cifarlab_simd dot
func simdDot(steps int32, a0, a1, b0, b1, b2, b3, acc unsafe.Pointer)

//go:wasmimport cifarlab_simd fused
func simdFused(x, y float32) int32

//go:wasmimport cifarlab_simd add
func simdAdd(dst, src unsafe.Pointer, n4 int32)

//go:wasmimport cifarlab_simd add3
func simdAdd3(y, a, b unsafe.Pointer, n4 int32)

//go:wasmimport cifarlab_simd relu
func simdReLU(y, x unsafe.Pointer, n4 int32)

//go:wasmimport cifarlab_simd relu_mask
func simdReLUMask(dx, dy, y unsafe.Pointer, n4 int32)

//go:wasmimport cifarlab_simd affine
func simdAffine(y, x unsafe.Pointer, n4 int32, a, c float32)

//go:wasmimport cifarlab_simd bn_dx
func simdBNInputGrad(d, g, x unsafe.Pointer, n4 int32, mu, a, bx, b0 float32)

//go:wasmimport cifarlab_simd shifted_sums
func simdShiftedSums(x unsafe.Pointer, n4 int32, shift float64, out unsafe.Pointer)

//go:wasmimport cifarlab_simd dot_sums
func simdDotSums(dy, x unsafe.Pointer, n4 int32, mu float64, out unsafe.Pointer)

// simd reports whether simd.wasm was loaded: the elementwise kernels and
// Tiles64 are in use.
var simd bool

// HasTiles64 reports whether Tiles64 may be used.
var HasTiles64 bool

// TileFused reports whether Tiles and Dot may be used: relaxed.wasm is
// loaded and its multiply-add rounds once (as the amd64 kernels and
// PyTorch's do).
var TileFused bool

// init loads the modules. CIFARLAB_SGEMM caps them as it caps the amd64
// kernels, to reproduce here what other browsers compute: =simd leaves out
// relaxed.wasm (a browser without relaxed SIMD, such as Safari), =go both
// (a browser without SIMD).
func init() {
	limit := os.Getenv("CIFARLAB_SGEMM")
	if limit != "" && limit != "simd" && limit != "go" {
		println("cifarlab: CIFARLAB_SGEMM=" + limit + " ignored: in WebAssembly it takes simd or go")
	}
	if limit == "go" || simdLoad(0, ptr8(baseModule), int32(len(baseModule))) == 0 {
		return
	}
	simd, HasTiles64 = true, true
	add, add3, relu, reluMask = addSIMD, add3SIMD, reluSIMD, reluMaskSIMD
	affine, bnInputGrad, shiftedSums, dotSums = affineSIMD, bnInputGradSIMD, shiftedSumsSIMD, dotSumsSIMD
	if limit == "simd" || simdLoad(1, ptr8(relaxedModule), int32(len(relaxedModule))) == 0 {
		return
	}
	// 1+2⁻¹² squared is 1+2⁻¹¹+2⁻²⁴: fused, minus 1+2⁻¹¹, that is 2⁻²⁴;
	// rounded first, 0.
	TileFused = simdFused(1+1.0/(1<<12), 1+1.0/(1<<11)) != 0
	if !TileFused {
		println("cifarlab: this browser's relaxed SIMD multiply-add is not fused; the CPU backend's matrix products sum in float64")
	}
}

func ptr8(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// Tiles64 computes count 2×8 tiles as Tiles does 4×8 ones, summed in
// float64 and rounded once: the same bits as sgemm's portable kernel.
// The caller checks the bounds. Only when HasTiles64.
func Tiles64(count, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	simdTiles64(int32(kc), ptr(a), ptr(b), int32(ldb), ptr(c), int32(ldc), int32(b2u(load)), beta, int32(count))
}

// Tiles computes count 4×8 tiles of sgemm's micro-kernel contract
// (kernelFunc) down one panel of B: C = Σ_p a[p·4+i]·b[p·ldb+j] (+ beta·C
// when load), 0 ≤ p < kc, the t-th tile with A from a[t·4·kc:] and C from
// c[t·4·ldc:]. One call for a column of tiles: a call from Go to the module
// costs about as much as a tile of few terms. The caller checks the bounds.
// Only when TileFused.
func Tiles(count, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	simdTiles(int32(kc), ptr(a), ptr(b), int32(ldb), ptr(c), int32(ldc), int32(b2u(load)), beta, int32(count))
}

// Dot adds to acc[(i·4+j)·4+l] the lane sums Σ_s a[i][4s+l]·b[j][4s+l] of
// two rows of A and four of Bᵀ, s < steps: sgemm's dot kernel contract with
// vec = 4. The caller checks the bounds. Only when TileFused.
func Dot(steps int, a, b [][]float32, acc []float32) {
	simdDot(int32(steps), ptr(a[0]), ptr(a[1]), ptr(b[0]), ptr(b[1]), ptr(b[2]), ptr(b[3]), ptr(acc))
}

func ptr(s []float32) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

// split is the number of floats the SIMD kernel does (a multiple of 4).
func split(n int) int { return n &^ 3 }

func addSIMD(dst, src []float32) {
	k := split(len(dst))
	if k > 0 {
		simdAdd(ptr(dst), ptr(src), int32(k/4))
	}
	addGo(dst[k:], src[k:])
}

func add3SIMD(y, a, b []float32) {
	k := split(len(y))
	if k > 0 {
		simdAdd3(ptr(y), ptr(a), ptr(b), int32(k/4))
	}
	add3Go(y[k:], a[k:], b[k:])
}

func reluSIMD(y, x []float32) {
	k := split(len(y))
	if k > 0 {
		simdReLU(ptr(y), ptr(x), int32(k/4))
	}
	reluGo(y[k:], x[k:])
}

func reluMaskSIMD(dx, dy, y []float32) {
	k := split(len(dx))
	if k > 0 {
		simdReLUMask(ptr(dx), ptr(dy), ptr(y), int32(k/4))
	}
	reluMaskGo(dx[k:], dy[k:], y[k:])
}

func affineSIMD(y, x []float32, a, c float32) {
	k := split(len(y))
	if k > 0 {
		simdAffine(ptr(y), ptr(x), int32(k/4), a, c)
	}
	affineGo(y[k:], x[k:], a, c)
}

func bnInputGradSIMD(d, g, x []float32, mu, a, bx, b0 float32) {
	k := split(len(d))
	if k > 0 {
		simdBNInputGrad(ptr(d), ptr(g), ptr(x), int32(k/4), mu, a, bx, b0)
	}
	bnInputGradGo(d[k:], g[k:], x[k:], mu, a, bx, b0)
}

// sums4 takes the two float64 lanes of each of two sums.
type sums4 [4]float64

func shiftedSumsSIMD(x []float32, shift float64) (s, q float64) {
	k := split(len(x))
	var out sums4
	if k > 0 {
		simdShiftedSums(ptr(x), int32(k/4), shift, unsafe.Pointer(&out))
	}
	ts, tq := shiftedSumsGo(x[k:], shift)
	return (out[0] + out[1]) + ts, (out[2] + out[3]) + tq
}

func dotSumsSIMD(dy, x []float32, mu float64) (s, sx float64) {
	k := split(len(dy))
	var out sums4
	if k > 0 {
		simdDotSums(ptr(dy), ptr(x), int32(k/4), mu, unsafe.Pointer(&out))
	}
	ts, tx := dotSumsGo(dy[k:], x[k:], mu)
	return (out[0] + out[1]) + ts, (out[2] + out[3]) + tx
}
