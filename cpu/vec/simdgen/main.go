// Command simdgen writes simd.wasm and relaxed.wasm, the WebAssembly
// modules with the SIMD128 kernels that package vec runs in the browser
// (see vec_js.go there): go generate in cpu/vec runs it. The modules are
// small enough to write here as bytes, instruction by instruction, so the
// build needs no WebAssembly toolchain; TestCheckedIn keeps the files and
// this program in step.
//
// Each module imports its memory (env.memory: the Go module's own, so the
// kernels read and write Go's slices where they lie). Addresses are in
// bytes; n4 counts groups of four floats (the caller does the rest).
// relaxed.wasm has what needs relaxed SIMD (tiles, dot, fused); simd.wasm
// the rest, which every browser with SIMD128 compiles. They export:
//
//	tiles(kc, a, b, ldb, c, ldc, load i32, beta f32, count i32)
//	    count 4×8 tiles C = Σ_p a[p·4+i]·b[p·ldb+j] (+ beta·C when load ≠ 0),
//	    for 0 ≤ p < kc, strides in elements (sgemm's micro-kernel contract),
//	    the t-th with A from a + t·4·kc floats and C from c + t·4·ldc: a
//	    column of tiles in one call.
//	dot(steps, a0, a1, b0, b1, b2, b3, acc)
//	    acc[(i·4+j)·4+l] += Σ_s a_i[4s+l]·b_j[4s+l], s < steps: sgemm's
//	    dot kernel (2×4 rows, four lanes).
//	tiles64(kc, a, b, ldb, c, ldc, load i32, beta f32, count i32)
//	    tiles for 2×8 tiles, summed in float64 and rounded once, as sgemm's
//	    portable kernel does (the same bits): where relaxed SIMD is missing.
//	fused(x, y f32) i32
//	    1 when f32x4.relaxed_madd rounds once (x·x − y with x = 1+2⁻¹² and
//	    y = 1+2⁻¹¹ is 2⁻²⁴, not 0), so that the caller can refuse a tiles
//	    kernel that would round each product on its own.
//	add(dst, src, n4)                 dst += src
//	add3(y, a, b, n4)                 y = a + b
//	relu(y, x, n4)                    y = max(x, 0)
//	relu_mask(dx, dy, y, n4)          dx = dy where y > 0, else 0
//	affine(y, x, n4, a, c f32)        y = x·a + c
//	bn_dx(d, g, x, n4, mu, a, bx, b0 f32)
//	                                  d = (a·g + bx·(x − mu)) + b0
//	shifted_sums(x, n4, shift f64, out)
//	                                  out[0:2] = Σ (x − shift), out[2:4] = Σ (x − shift)²
//	dot_sums(dy, x, n4, mu f64, out)  out[0:2] = Σ dy, out[2:4] = Σ dy·(x − mu)
//
// (the sums in float64, two lanes each). Each operation but the tile's is
// the one Go's code does, rounded alike. The tile's multiply-add is
// f32x4.relaxed_madd (relaxed SIMD, Chrome 114 and later), and so is dot's, fused on every
// CPU with a fused instruction; rounding each product as well put the block
// networks' gradients 1–3% away from PyTorch's (see sgemm's kernelGo).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", ".", "the folder to write simd.wasm and relaxed.wasm into")
	flag.Parse()
	for name, fs := range map[string][]function{"simd.wasm": baseFunctions, "relaxed.wasm": relaxedFunctions} {
		if err := os.WriteFile(filepath.Join(*dir, name), Module(fs), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "simdgen:", err)
			os.Exit(1)
		}
	}
}

// Instruction codes of the WebAssembly binary format (core 2.0, with SIMD
// and relaxed SIMD), and its value types.
const (
	opBlock    = 0x02
	opLoop     = 0x03
	opIf       = 0x04
	opEnd      = 0x0b
	opBrIf     = 0x0d
	opLocalGet = 0x20
	opLocalSet = 0x21
	opLocalTee = 0x22
	opI32Const = 0x41
	opI32Eqz   = 0x45
	opI32Add   = 0x6a
	opI32Sub   = 0x6b
	opI32Mul   = 0x6c
	opI32Shl   = 0x74
	opF32Ne    = 0x5c
	opF32Const = 0x43
	opF32Neg   = 0x8c
	blockEmpty = 0x40
	simdPrefix = 0xfd

	vLoad         = 0x00
	vLoad32Splat  = 0x09
	vStore        = 0x0b
	vShuffle      = 0x0d
	vF32Splat     = 0x13
	vF64Splat     = 0x14
	vF32Extract   = 0x1f
	vF32Gt        = 0x44
	vF32Demote    = 0x5e // f32x4.demote_f64x2_zero
	opF32Load     = 0x2a
	opF64Promote  = 0xbb
	vAnd          = 0x4e
	vF64Promote   = 0x5f // f64x2.promote_low_f32x4
	vF32Add       = 0xe4
	vF32Sub       = 0xe5
	vF32Mul       = 0xe6
	vF32Max       = 0xe9
	vF64Add       = 0xf0
	vF64Sub       = 0xf1
	vF64Mul       = 0xf2
	vRelaxedMadd  = 0x105 // f32x4.relaxed_madd
	typeI32       = 0x7f
	typeF32       = 0x7d
	typeF64       = 0x7c
	typeV128      = 0x7b
	typeFunc      = 0x60
	exportFunc    = 0x00
	importMemory  = 0x02
	sectionType   = 1
	sectionImport = 2
	sectionFunc   = 3
	sectionExport = 7
	sectionCode   = 10
)

// code is a function body under construction.
type code struct{ bytes.Buffer }

func (c *code) op(b ...byte) { c.Write(b) }
func (c *code) u32(v uint32) { c.Write(uleb(v)) }
func (c *code) get(l int)    { c.op(opLocalGet); c.u32(uint32(l)) }
func (c *code) set(l int)    { c.op(opLocalSet); c.u32(uint32(l)) }
func (c *code) i32(v int32)  { c.op(opI32Const); c.Write(sleb(v)) }
func (c *code) v(o uint32) {
	c.op(simdPrefix)
	c.u32(o)
}

// mem emits a SIMD memory instruction with alignment 2^2 (the operands are
// float32 slices: 4-byte aligned, not 16) and a constant offset in bytes.
func (c *code) mem(o uint32, offset int) {
	c.v(o)
	c.u32(2)
	c.u32(uint32(offset))
}

// load pushes the four floats at local ptr.
func (c *code) load(ptr int) {
	c.get(ptr)
	c.mem(vLoad, 0)
}

// store stores what f pushes at local ptr.
func (c *code) store(ptr int, f func()) {
	c.get(ptr)
	f()
	c.mem(vStore, 0)
}

// advance adds by bytes to local l.
func (c *code) advance(l int, by int32) {
	c.get(l)
	c.i32(by)
	c.op(opI32Add)
	c.set(l)
}

// addLocal adds local src to local dst.
func (c *code) addLocal(dst, src int) {
	c.get(dst)
	c.get(src)
	c.op(opI32Add)
	c.set(dst)
}

// toBytes turns the strides in the locals ls from floats to bytes.
func (c *code) toBytes(ls ...int) {
	for _, l := range ls {
		c.get(l)
		c.i32(2)
		c.op(opI32Shl)
		c.set(l)
	}
}

// countdown decrements local l and branches back to the enclosing loop
// while it is not 0.
func (c *code) countdown(l int) {
	c.get(l)
	c.i32(1)
	c.op(opI32Sub)
	c.op(opLocalTee)
	c.u32(uint32(l))
	c.op(opBrIf, 0)
}

// each runs body for every group of four floats: n is the local with the
// number of groups, and the locals ptrs advance by 16 bytes after each.
func (c *code) each(n int, ptrs []int, body func()) {
	c.op(opBlock, blockEmpty)
	c.get(n)
	c.op(opI32Eqz)
	c.op(opBrIf, 0)
	c.op(opLoop, blockEmpty)
	body()
	for _, p := range ptrs {
		c.advance(p, 16)
	}
	c.countdown(n)
	c.op(opEnd)
	c.op(opEnd)
}

// promote turns the four floats on the stack into the float64s of lanes
// 0 and 1 (half 0) or 2 and 3 (half 1, through the local tmp).
func (c *code) promote(half, tmp int) {
	if half == 0 {
		c.v(vF64Promote)
		return
	}
	c.promoteHigh(tmp)
}

// promoteHigh turns the four floats on the stack into the float64s of lanes 2 and 3.
func (c *code) promoteHigh(tmp int) {
	c.set(tmp)
	c.get(tmp)
	c.get(tmp)
	c.v(vShuffle)
	c.op(8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15)
	c.v(vF64Promote)
}

// function is one exported function: its name, parameter and result types,
// extra locals (i32s, then v128s) and body.
type function struct {
	name    string
	params  []byte
	results []byte
	i32s    int
	v128s   int
	body    func(c *code)
}

// tileMR×4·tileNV is the register block of tiles: 4×8 keeps eight
// accumulators, two rows of B and one broadcast of A in registers (x86-64
// has 16 vector registers, arm64 32).
const (
	tileMR = 4
	tileNV = 2
)

// Parameters and locals of tiles and tiles64.
const (
	tKC, tA, tB, tLDB, tC, tLDC, tLoad, tBeta, tCount = 0, 1, 2, 3, 4, 5, 6, 7, 8
	tK, tB0                                           = 9, 10 // i32 locals
	tV                                                = 11    // the first v128 local
)

// tileColumn emits the frame of tiles and tiles64, which compute count
// tiles down one panel of B: tile t takes the A panel at a + t·kc·mr floats
// and writes C rows t·mr… (c + t·mr·ldc floats). For each tile the
// accumulators accs are zeroed (from the local zero), term runs for each of
// the kc terms (then a advances by mr floats and b by ldb), loadC adds
// beta·C when load ≠ 0, and storeRow stores row i of C at c (then c
// advances by ldc).
func (c *code) tileColumn(mr int, accs []int, zero int, term, loadC func(), storeRow func(i int)) {
	c.toBytes(tLDB, tLDC)
	c.get(tB)
	c.set(tB0)
	c.op(opLoop, blockEmpty) // over the tiles; count ≥ 1
	for _, l := range accs {
		c.get(zero)
		c.set(l)
	}
	c.get(tB0)
	c.set(tB)
	c.get(tKC)
	c.set(tK)
	c.op(opLoop, blockEmpty) // over the terms; kc ≥ 1
	term()
	c.advance(tA, int32(4*mr)) // after the last term, a is the next tile's panel
	c.addLocal(tB, tLDB)
	c.countdown(tK)
	c.op(opEnd)
	c.get(tLoad)
	c.op(opIf, blockEmpty)
	loadC()
	c.op(opEnd)
	for i := range mr {
		storeRow(i)
		c.addLocal(tC, tLDC) // after the last row, c is the next tile's
	}
	c.countdown(tCount)
	c.op(opEnd)
}

// rowC pushes the address of row i of C.
func (c *code) rowC(i int) {
	c.get(tC)
	c.i32(int32(i))
	c.get(tLDC)
	c.op(opI32Mul)
	c.op(opI32Add)
}

// tiles is the float32 tile column with relaxed_madd.
func tiles(c *code) {
	acc := func(i, v int) int { return tV + i*tileNV + v }
	bv := func(v int) int { return tV + tileMR*tileNV + v }
	av := tV + tileMR*tileNV + tileNV
	zero := av + 1
	var accs []int
	for i := range tileMR {
		for v := range tileNV {
			accs = append(accs, acc(i, v))
		}
	}
	term := func() {
		for v := range tileNV {
			c.get(tB)
			c.mem(vLoad, 16*v)
			c.set(bv(v))
		}
		for i := range tileMR {
			c.get(tA)
			c.mem(vLoad32Splat, 4*i)
			c.set(av)
			for v := range tileNV {
				c.get(av)
				c.get(bv(v))
				c.get(acc(i, v))
				c.v(vRelaxedMadd)
				c.set(acc(i, v))
			}
		}
	}
	loadC := func() { // acc = beta·C + acc
		c.get(tBeta)
		c.v(vF32Splat)
		c.set(av)
		for i := range tileMR {
			for v := range tileNV {
				c.get(av)
				c.rowC(i)
				c.mem(vLoad, 16*v)
				c.get(acc(i, v))
				c.v(vRelaxedMadd)
				c.set(acc(i, v))
			}
		}
	}
	storeRow := func(i int) {
		for v := range tileNV {
			c.get(tC)
			c.get(acc(i, v))
			c.mem(vStore, 16*v)
		}
	}
	c.tileColumn(tileMR, accs, zero, term, loadC, storeRow)
}

// dot adds to acc[(i·4+j)·4+l] the lane sums Σ_s a_i[4s+l]·b_j[4s+l] of
// two rows of A and four of Bᵀ, s < steps ≥ 1: sgemm's dot kernel contract
// with vec = 4. Eight accumulators, two rows of A and one of B stay in
// registers.
func dot(c *code) {
	const (
		steps, a0, a1, b0, b1, b2, b3, acc = 0, 1, 2, 3, 4, 5, 6, 7
		s0                                 = 8 // 8 sums, then the two rows of A, then one of B
	)
	sum := func(i, j int) int { return s0 + i*4 + j }
	rowA := [2]int{a0, a1}
	rowB := [4]int{b0, b1, b2, b3}
	av := func(i int) int { return s0 + 8 + i }
	bv := s0 + 10
	for i := range 2 {
		for j := range 4 {
			c.get(acc)
			c.mem(vLoad, (i*4+j)*16)
			c.set(sum(i, j))
		}
	}
	c.op(opLoop, blockEmpty)
	for i := range 2 {
		c.load(rowA[i])
		c.set(av(i))
	}
	for j := range 4 {
		c.load(rowB[j])
		c.set(bv)
		for i := range 2 {
			c.get(av(i))
			c.get(bv)
			c.get(sum(i, j))
			c.v(vRelaxedMadd)
			c.set(sum(i, j))
		}
	}
	for _, p := range []int{a0, a1, b0, b1, b2, b3} {
		c.advance(p, 16)
	}
	c.countdown(steps)
	c.op(opEnd)
	for i := range 2 {
		for j := range 4 {
			c.get(acc)
			c.get(sum(i, j))
			c.mem(vStore, (i*4+j)*16)
		}
	}
}

// tiles64 is tiles for 2×8 tiles summed in float64 (as sgemm's portable
// kernel sums, with the same operations in the same order: the same bits),
// for browsers without relaxed SIMD: each product of two float32 is exact
// in float64, so no fused multiply-add is needed.
func tiles64(c *code) {
	const mr, nv = 2, 4 // rows, f64x2 vectors of a row of 8
	acc := func(i, v int) int { return tV + i*nv + v }
	bf := func(v int) int { return tV + mr*nv + v }
	av := tV + mr*nv + nv
	tmp := av + 1
	zero := av + 2
	var accs []int
	for i := range mr {
		for v := range nv {
			accs = append(accs, acc(i, v))
		}
	}
	term := func() {
		for h := range 2 {
			c.get(tB)
			c.mem(vLoad, 16*h)
			c.set(tmp)
			c.get(tmp)
			c.v(vF64Promote)
			c.set(bf(2 * h))
			c.get(tmp)
			c.promoteHigh(tmp)
			c.set(bf(2*h + 1))
		}
		for i := range mr {
			c.get(tA)
			c.op(opF32Load)
			c.u32(2)
			c.u32(uint32(4 * i))
			c.op(opF64Promote)
			c.v(vF64Splat)
			c.set(av)
			for v := range nv {
				c.get(acc(i, v))
				c.get(av)
				c.get(bf(v))
				c.v(vF64Mul)
				c.v(vF64Add)
				c.set(acc(i, v))
			}
		}
	}
	loadC := func() { // acc = acc + beta·C, in float64
		c.get(tBeta)
		c.op(opF64Promote)
		c.v(vF64Splat)
		c.set(av)
		for i := range mr {
			for h := range 2 {
				c.rowC(i)
				c.mem(vLoad, 16*h)
				c.set(tmp)
				for half := range 2 {
					v := 2*h + half
					c.get(acc(i, v))
					c.get(av)
					c.get(tmp)
					c.promote(half, tmp)
					c.v(vF64Mul)
					c.v(vF64Add)
					c.set(acc(i, v))
				}
			}
		}
	}
	storeRow := func(i int) { // rounded once to float32
		for h := range 2 {
			c.get(tC)
			c.get(acc(i, 2*h))
			c.v(vF32Demote)
			c.get(acc(i, 2*h+1))
			c.v(vF32Demote)
			c.v(vShuffle) // lanes 0, 1 of each
			c.op(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)
			c.mem(vStore, 16*h)
		}
	}
	c.tileColumn(mr, accs, zero, term, loadC, storeRow)
}

// relaxedFunctions make relaxed.wasm: what needs relaxed SIMD.
var relaxedFunctions = []function{
	{"tiles", []byte{typeI32, typeI32, typeI32, typeI32, typeI32, typeI32, typeI32, typeF32, typeI32}, nil, 2, tileMR*tileNV + tileNV + 2, tiles},
	{"dot", []byte{typeI32, typeI32, typeI32, typeI32, typeI32, typeI32, typeI32, typeI32}, nil, 0, 11, dot},
	{"fused", []byte{typeF32, typeF32}, []byte{typeI32}, 0, 0, func(c *code) {
		c.get(0)
		c.v(vF32Splat)
		c.get(0)
		c.v(vF32Splat)
		c.get(1)
		c.op(opF32Neg)
		c.v(vF32Splat)
		c.v(vRelaxedMadd)
		c.v(vF32Extract)
		c.op(0)
		c.op(opF32Const, 0, 0, 0, 0)
		c.op(opF32Ne)
	}},
}

// baseFunctions make simd.wasm: SIMD128 alone (every browser with
// WebAssembly SIMD).
var baseFunctions = []function{
	{"tiles64", []byte{typeI32, typeI32, typeI32, typeI32, typeI32, typeI32, typeI32, typeF32, typeI32}, nil, 2, 2*4 + 4 + 3, tiles64},
	{"add", []byte{typeI32, typeI32, typeI32}, nil, 0, 0, func(c *code) {
		const dst, src, n = 0, 1, 2
		c.each(n, []int{dst, src}, func() {
			c.store(dst, func() { c.load(dst); c.load(src); c.v(vF32Add) })
		})
	}},
	{"add3", []byte{typeI32, typeI32, typeI32, typeI32}, nil, 0, 0, func(c *code) {
		const y, a, b, n = 0, 1, 2, 3
		c.each(n, []int{y, a, b}, func() {
			c.store(y, func() { c.load(a); c.load(b); c.v(vF32Add) })
		})
	}},
	{"relu", []byte{typeI32, typeI32, typeI32}, nil, 0, 1, func(c *code) {
		const y, x, n, zero = 0, 1, 2, 3
		c.each(n, []int{y, x}, func() {
			c.store(y, func() { c.load(x); c.get(zero); c.v(vF32Max) })
		})
	}},
	{"relu_mask", []byte{typeI32, typeI32, typeI32, typeI32}, nil, 0, 1, func(c *code) {
		const dx, dy, y, n, zero = 0, 1, 2, 3, 4
		c.each(n, []int{dx, dy, y}, func() {
			c.store(dx, func() { c.load(dy); c.load(y); c.get(zero); c.v(vF32Gt); c.v(vAnd) })
		})
	}},
	{"affine", []byte{typeI32, typeI32, typeI32, typeF32, typeF32}, nil, 0, 2, func(c *code) {
		const y, x, n, a, cc, av, cv = 0, 1, 2, 3, 4, 5, 6
		c.get(a)
		c.v(vF32Splat)
		c.set(av)
		c.get(cc)
		c.v(vF32Splat)
		c.set(cv)
		c.each(n, []int{y, x}, func() {
			c.store(y, func() { c.load(x); c.get(av); c.v(vF32Mul); c.get(cv); c.v(vF32Add) })
		})
	}},
	{"bn_dx", []byte{typeI32, typeI32, typeI32, typeI32, typeF32, typeF32, typeF32, typeF32}, nil, 0, 4, func(c *code) {
		const d, g, x, n, mu, a, bx, b0 = 0, 1, 2, 3, 4, 5, 6, 7
		const muv, av, bxv, b0v = 8, 9, 10, 11
		for _, p := range [][2]int{{mu, muv}, {a, av}, {bx, bxv}, {b0, b0v}} {
			c.get(p[0])
			c.v(vF32Splat)
			c.set(p[1])
		}
		c.each(n, []int{d, g, x}, func() {
			c.store(d, func() {
				c.get(av)
				c.load(g)
				c.v(vF32Mul)
				c.get(bxv)
				c.load(x)
				c.get(muv)
				c.v(vF32Sub)
				c.v(vF32Mul)
				c.v(vF32Add)
				c.get(b0v)
				c.v(vF32Add)
			})
		})
	}},
	{"shifted_sums", []byte{typeI32, typeI32, typeF64, typeI32}, nil, 0, 5, func(c *code) {
		const x, n, shift, out, sh, s, q, v, d = 0, 1, 2, 3, 4, 5, 6, 7, 8
		c.get(shift)
		c.v(vF64Splat)
		c.set(sh)
		c.each(n, []int{x}, func() {
			for half := range 2 {
				c.load(x)
				c.promote(half, v)
				c.get(sh)
				c.v(vF64Sub)
				c.set(d)
				c.get(s)
				c.get(d)
				c.v(vF64Add)
				c.set(s)
				c.get(q)
				c.get(d)
				c.get(d)
				c.v(vF64Mul)
				c.v(vF64Add)
				c.set(q)
			}
		})
		c.store(out, func() { c.get(s) })
		c.get(out)
		c.get(q)
		c.mem(vStore, 16)
	}},
	{"dot_sums", []byte{typeI32, typeI32, typeI32, typeF64, typeI32}, nil, 0, 5, func(c *code) {
		const dy, x, n, mu, out, muv, s, t, v, g = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
		c.get(mu)
		c.v(vF64Splat)
		c.set(muv)
		c.each(n, []int{dy, x}, func() {
			for half := range 2 {
				promote := func(p int) {
					c.load(p)
					c.promote(half, v)
				}
				promote(dy)
				c.set(g)
				c.get(s)
				c.get(g)
				c.v(vF64Add)
				c.set(s)
				c.get(t)
				c.get(g)
				promote(x)
				c.get(muv)
				c.v(vF64Sub)
				c.v(vF64Mul)
				c.v(vF64Add)
				c.set(t)
			}
		})
		c.store(out, func() { c.get(s) })
		c.get(out)
		c.get(t)
		c.mem(vStore, 16)
	}},
}

// Module returns the bytes of a module of the functions fs.
func Module(fs []function) []byte {
	var m bytes.Buffer
	m.Write([]byte{0x00, 'a', 's', 'm', 1, 0, 0, 0})
	var types, funcs, exports, bodies [][]byte
	for i, f := range fs {
		types = append(types, concat([]byte{typeFunc}, sized(f.params), sized(f.results)))
		funcs = append(funcs, uleb(uint32(i)))
		exports = append(exports, concat(name(f.name), []byte{exportFunc}, uleb(uint32(i))))
		var c code
		f.body(&c)
		c.op(opEnd)
		var groups [][]byte
		if f.i32s > 0 {
			groups = append(groups, concat(uleb(uint32(f.i32s)), []byte{typeI32}))
		}
		if f.v128s > 0 {
			groups = append(groups, concat(uleb(uint32(f.v128s)), []byte{typeV128}))
		}
		locals := vec(groups...)
		bodies = append(bodies, sized(concat(locals, c.Bytes())))
	}
	section(&m, sectionType, vec(types...))
	// env.memory, at least 0 pages, no maximum.
	section(&m, sectionImport, vec(concat(name("env"), name("memory"), []byte{importMemory, 0x00, 0x00})))
	section(&m, sectionFunc, vec(funcs...))
	section(&m, sectionExport, vec(exports...))
	section(&m, sectionCode, vec(bodies...))
	return m.Bytes()
}

func section(m *bytes.Buffer, id byte, body []byte) {
	m.WriteByte(id)
	m.Write(sized(body))
}

// sized prefixes b with its length.
func sized(b []byte) []byte { return append(uleb(uint32(len(b))), b...) }

// vec is a WebAssembly vector: the count, then the items.
func vec(items ...[]byte) []byte {
	return concat(append([][]byte{uleb(uint32(len(items)))}, items...)...)
}

func name(s string) []byte { return sized([]byte(s)) }

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func uleb(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
