package main

import (
	"bytes"
	"os"
	"testing"
)

// TestCheckedIn fails when ../simd.wasm or ../relaxed.wasm is not what this
// program writes: run go generate in cpu/vec after changing it.
func TestCheckedIn(t *testing.T) {
	for name, fs := range map[string][]function{"simd.wasm": baseFunctions, "relaxed.wasm": relaxedFunctions} {
		got, err := os.ReadFile("../" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, Module(fs)) {
			t.Errorf("cpu/vec/%s is out of date: run go generate ./cpu/vec", name)
		}
	}
}

// TestLEB128 checks the integer encodings against the examples of the
// WebAssembly specification and the DWARF standard.
func TestLEB128(t *testing.T) {
	for _, c := range []struct {
		v    uint32
		want []byte
	}{{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0x80, 0x01}}, {0x105, []byte{0x85, 0x02}}, {624485, []byte{0xe5, 0x8e, 0x26}}} {
		if got := uleb(c.v); !bytes.Equal(got, c.want) {
			t.Errorf("uleb(%d) = %x, want %x", c.v, got, c.want)
		}
	}
	for _, c := range []struct {
		v    int32
		want []byte
	}{{0, []byte{0}}, {-1, []byte{0x7f}}, {63, []byte{0x3f}}, {64, []byte{0xc0, 0x00}}, {-64, []byte{0x40}}, {-123456, []byte{0xc0, 0xbb, 0x78}}} {
		if got := sleb(c.v); !bytes.Equal(got, c.want) {
			t.Errorf("sleb(%d) = %x, want %x", c.v, got, c.want)
		}
	}
}
