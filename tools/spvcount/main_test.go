package main

import (
	"testing"

	"github.com/gogpu/naga"
)

// TestCount compiles a shader whose functions make known numbers of
// integer divisions and checks what count and nameFunctions report.
func TestCount(t *testing.T) {
	const src = `
@group(0) @binding(0) var<storage, read_write> buf: array<u32>;

fn two(a: u32, b: u32) -> u32 {
    return a / b + a % b;
}

fn none(a: u32) -> u32 {
    return a * 3u + 1u;
}

@compute @workgroup_size(1)
fn main() {
    buf[0] = two(buf[1], buf[2]) + none(buf[3]);
}
`
	opts := naga.DefaultOptions()
	opts.Debug = true
	spv, err := naga.CompileWithOptions(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	fns, order, err := count(spv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nameFunctions(src, fns, order); err != nil {
		t.Fatal(err)
	}
	for name, divs := range map[string]int{"two": 2, "none": 0, "main": 0} {
		c, ok := fns[name]
		if !ok {
			t.Fatalf("no function %s in %v", name, fns)
		}
		if c.divs != divs || c.insts == 0 {
			t.Errorf("%s: %d instructions, %d divisions; want %d divisions", name, c.insts, c.divs, divs)
		}
	}
}
