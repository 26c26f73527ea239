// Command simdgen writes simd.wasm, the WebAssembly module with the
// SIMD128 micro-kernel that package sgemm runs in the browser (see
// kernel_js.go there): go generate in cpu/sgemm runs it. The module is
// small enough to write here as bytes, instruction by instruction, so the
// build needs no WebAssembly toolchain; TestCheckedIn keeps the file and this
// program in step.
//
// The module imports its memory (env.memory: the Go module's own, so the
// kernel reads and writes Go's slices where they lie) and exports:
//
//	kernel(kc, a, b, ldb, c, ldc, load i32, beta f32)
//	    the mr×nr tile C = Σ_p a[p·mr+i]·b[p·ldb+j] (+ beta·C when load ≠ 0),
//	    for 0 ≤ p < kc, with the addresses a, b, c in bytes and the strides
//	    ldb, ldc in elements: the contract of sgemm's kernelFunc.
//	fused(x, y f32) i32
//	    1 when f32x4.relaxed_madd rounds once (x·x − y with x = 1+2⁻¹² and
//	    y = 1+2⁻¹¹ is 2⁻²⁴, not 0), so that the caller can refuse a
//	    kernel that would round each product on its own.
//
// Each multiply-add is f32x4.relaxed_madd (relaxed SIMD, Chrome 114 and
// later), fused on every CPU with a fused instruction; rounding each product
// as well put the block networks' gradients 1–3% away from PyTorch's (see
// kernelGo).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
)

// The register block: mr rows by nv vectors of four columns. 4×8 keeps
// eight accumulators, two rows of B and one broadcast of A in registers
// (x86-64 has 16 vector registers, arm64 32).
const (
	mr = 4
	nv = 2
)

func main() {
	out := flag.String("o", "simd.wasm", "the file to write")
	flag.Parse()
	if err := os.WriteFile(*out, Module(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "simdgen:", err)
		os.Exit(1)
	}
}

// Instruction and section codes of the WebAssembly binary format (core 2.0,
// with the SIMD proposal and relaxed SIMD).
const (
	opLoop     = 0x03
	opIf       = 0x04
	opEnd      = 0x0b
	opBrIf     = 0x0d
	opLocalGet = 0x20
	opLocalSet = 0x21
	opLocalTee = 0x22
	opI32Const = 0x41
	opI32Add   = 0x6a
	opI32Sub   = 0x6b
	opI32Mul   = 0x6c
	opI32Shl   = 0x74
	opF32Ne    = 0x5c
	opF32Const = 0x43
	opF32Neg   = 0x8c
	blockEmpty = 0x40
	simdPrefix = 0xfd

	simdLoad       = 0x00
	simdLoad32Spl  = 0x09
	simdStore      = 0x0b
	simdF32Splat   = 0x13
	simdF32Extract = 0x1f
	simdRelaxMadd  = 0x105

	typeI32  = 0x7f
	typeF32  = 0x7d
	typeV128 = 0x7b
	typeFunc = 0x60
)

// code is a function body under construction.
type code struct{ bytes.Buffer }

func (c *code) op(b ...byte) { c.Write(b) }
func (c *code) u32(v uint32) { c.Write(uleb(v)) }
func (c *code) get(l int)    { c.op(opLocalGet); c.u32(uint32(l)) }
func (c *code) set(l int)    { c.op(opLocalSet); c.u32(uint32(l)) }
func (c *code) i32(v int32)  { c.op(opI32Const); c.Write(sleb(v)) }
func (c *code) simd(o uint32) {
	c.op(simdPrefix)
	c.u32(o)
}

// mem emits a SIMD memory instruction with alignment 2^2 (the operands are
// float32 slices: 4-byte aligned, not 16) and a constant offset in bytes.
func (c *code) mem(o uint32, offset int) {
	c.simd(o)
	c.u32(2)
	c.u32(uint32(offset))
}

// Parameters and locals of kernel.
const (
	pKC = iota
	pA
	pB
	pLDB
	pC
	pLDC
	pLoad
	pBeta
	lAcc // mr·nv v128 accumulators, then nv rows of B, one broadcast of A
)

func kernel() []byte {
	acc := func(i, v int) int { return lAcc + i*nv + v }
	bv := func(v int) int { return lAcc + mr*nv + v }
	av := lAcc + mr*nv + nv
	var c code
	// Strides in bytes.
	for _, l := range []int{pLDB, pLDC} {
		c.get(l)
		c.i32(2)
		c.op(opI32Shl)
		c.set(l)
	}
	// The accumulators start at zero, as every local does.
	c.op(opLoop, blockEmpty)
	for v := range nv {
		c.get(pB)
		c.mem(simdLoad, 16*v)
		c.set(bv(v))
	}
	for i := range mr {
		c.get(pA)
		c.mem(simdLoad32Spl, 4*i)
		c.set(av)
		for v := range nv {
			c.get(av)
			c.get(bv(v))
			c.get(acc(i, v))
			c.simd(simdRelaxMadd)
			c.set(acc(i, v))
		}
	}
	c.get(pA)
	c.i32(4 * mr)
	c.op(opI32Add)
	c.set(pA)
	c.get(pB)
	c.get(pLDB)
	c.op(opI32Add)
	c.set(pB)
	c.get(pKC)
	c.i32(1)
	c.op(opI32Sub)
	c.op(opLocalTee)
	c.u32(pKC)
	c.op(opBrIf, 0) // loop while kc ≠ 0
	c.op(opEnd)
	// C = acc + beta·C, one row at a time (c advances by ldc).
	c.get(pLoad)
	c.op(opIf, blockEmpty)
	c.get(pBeta)
	c.simd(simdF32Splat)
	c.set(av)
	for i := range mr {
		for v := range nv {
			c.get(av)
			c.get(pC)
			c.i32(int32(i))
			c.get(pLDC)
			c.op(opI32Mul)
			c.op(opI32Add)
			c.mem(simdLoad, 16*v)
			c.get(acc(i, v))
			c.simd(simdRelaxMadd)
			c.set(acc(i, v))
		}
	}
	c.op(opEnd)
	for i := range mr {
		for v := range nv {
			c.get(pC)
			c.get(acc(i, v))
			c.mem(simdStore, 16*v)
		}
		c.get(pC)
		c.get(pLDC)
		c.op(opI32Add)
		c.set(pC)
	}
	c.op(opEnd)
	locals := []byte{1}
	locals = append(locals, uleb(mr*nv+nv+1)...)
	locals = append(locals, typeV128)
	return append(locals, c.Bytes()...)
}

// fused computes relaxed_madd(x, x, −y) and reports whether lane 0 is not 0.
func fused() []byte {
	var c code
	c.get(0)
	c.simd(simdF32Splat)
	c.get(0)
	c.simd(simdF32Splat)
	c.get(1)
	c.op(opF32Neg)
	c.simd(simdF32Splat)
	c.simd(simdRelaxMadd)
	c.simd(simdF32Extract)
	c.op(0)
	c.op(opF32Const, 0, 0, 0, 0)
	c.op(opF32Ne)
	c.op(opEnd)
	return append([]byte{0}, c.Bytes()...)
}

// Module returns the bytes of simd.wasm.
func Module() []byte {
	var m bytes.Buffer
	m.Write([]byte{0x00, 'a', 's', 'm', 1, 0, 0, 0})
	// Types: 0 kernel, 1 fused.
	section(&m, 1, vec(
		append([]byte{typeFunc}, append(vec([]byte{typeI32}, []byte{typeI32}, []byte{typeI32}, []byte{typeI32},
			[]byte{typeI32}, []byte{typeI32}, []byte{typeI32}, []byte{typeF32}), 0)...),
		append([]byte{typeFunc}, append(vec([]byte{typeF32}, []byte{typeF32}), 1, typeI32)...),
	))
	// Import env.memory, at least 0 pages, no maximum.
	section(&m, 2, vec(concat(name("env"), name("memory"), []byte{0x02, 0x00, 0x00})))
	section(&m, 3, vec([]byte{0}, []byte{1}))
	section(&m, 7, vec(
		concat(name("kernel"), []byte{0x00, 0}),
		concat(name("fused"), []byte{0x00, 1}),
	))
	section(&m, 10, vec(sized(kernel()), sized(fused())))
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
