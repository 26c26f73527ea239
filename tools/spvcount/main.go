// Command spvcount compiles WGSL files to SPIR-V with the shader compiler
// the GPU backend uses (gogpu/naga) and prints, for each function of each
// file, its SPIR-V instruction count (its own: calls are one instruction)
// and how many integer divisions and remainders it makes (naga wraps each
// in a helper function, naga_div or naga_mod, of about 20 instructions): a
// way to see what a kernel's inner loop asks of a GPU without one at hand.
//
//	go run ./tools/spvcount shaders/conv.wgsl
//	go run ./tools/spvcount -funcs forward_b,data_b,params_b OLD.wgsl shaders/conv.wgsl
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/gogpu/naga"
)

// SPIR-V opcodes counted.
const (
	opName         = 5
	opLine         = 8
	opNoLine       = 317
	opFunction     = 54
	opFunctionEnd  = 56
	opFunctionCall = 57
	opUDiv         = 134
	opSDiv         = 135
	opUMod         = 137
	opSRem         = 138
	opSMod         = 139
)

type counts struct{ insts, divs int }

func main() {
	funcs := flag.String("funcs", "", "comma-separated functions to print (default: all)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: spvcount [-funcs f,g] file.wgsl ...")
		os.Exit(2)
	}
	want := map[string]bool{}
	for _, f := range strings.Split(*funcs, ",") {
		if f != "" {
			want[f] = true
		}
	}
	for _, path := range flag.Args() {
		if err := report(path, want); err != nil {
			fmt.Fprintf(os.Stderr, "spvcount: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

func report(path string, want map[string]bool) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	opts := naga.DefaultOptions()
	opts.Debug = true // OpName: the functions' names (OpLine is not counted)
	spv, err := naga.CompileWithOptions(string(src), opts)
	if err != nil {
		return fmt.Errorf("compiling: %w", err)
	}
	fns, order, err := count(spv)
	if err != nil {
		return err
	}
	order, err = nameFunctions(string(src), fns, order)
	if err != nil {
		return err
	}
	fmt.Printf("%s\n", path)
	for _, name := range order {
		if len(want) > 0 && !want[name] {
			continue
		}
		c := fns[name]
		fmt.Printf("  %-34s %5d instructions, %2d integer divisions or remainders\n", name, c.insts, c.divs)
	}
	return nil
}

// count walks a SPIR-V module: the instructions of each function, by the
// name OpName gives its result id.
func count(spv []byte) (map[string]counts, []string, error) {
	if len(spv)%4 != 0 || len(spv) < 20 {
		return nil, nil, fmt.Errorf("SPIR-V of %d bytes", len(spv))
	}
	words := make([]uint32, len(spv)/4)
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(spv[4*i:])
	}
	names := map[uint32]string{}
	fns := map[string]counts{}
	var order []string
	cur := ""
	for i := 5; i < len(words); {
		op, n := words[i]&0xffff, int(words[i]>>16)
		if n == 0 || i+n > len(words) {
			return nil, nil, fmt.Errorf("malformed instruction at word %d", i)
		}
		switch op {
		case opName:
			names[words[i+1]] = cstring(words[i+2 : i+n])
		case opFunction:
			cur = names[words[i+2]]
			if cur == "" {
				cur = fmt.Sprintf("%%%d", words[i+2])
			}
			order = append(order, cur)
		case opFunctionEnd:
			cur = ""
		}
		if cur != "" && op != opLine && op != opNoLine {
			c := fns[cur]
			c.insts++
			switch op {
			case opUDiv, opSDiv, opUMod, opSRem, opSMod:
				c.divs++
			case opFunctionCall: // naga wraps each integer division in a helper
				if callee := names[words[i+3]]; strings.HasPrefix(callee, "naga_div") || strings.HasPrefix(callee, "naga_mod") {
					c.divs++
				}
			}
			fns[cur] = c
		}
		i += n
	}
	return fns, order, nil
}

// nameFunctions names the functions OpName leaves unnamed (naga v0.19
// names only its own helpers): they are the module's functions, then its
// entry points, in the order the compiler lowered them.
func nameFunctions(src string, fns map[string]counts, order []string) ([]string, error) {
	ast, err := naga.Parse(src)
	if err != nil {
		return nil, err
	}
	mod, err := naga.Lower(ast)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range mod.Functions {
		names = append(names, f.Name)
	}
	for _, ep := range mod.EntryPoints {
		names = append(names, ep.Function.Name)
	}
	var unnamed []int
	for i, n := range order {
		if strings.HasPrefix(n, "%") {
			unnamed = append(unnamed, i)
		}
	}
	if len(unnamed) != len(names) {
		return nil, fmt.Errorf("%d unnamed SPIR-V functions for %d WGSL functions and entry points", len(unnamed), len(names))
	}
	out := append([]string(nil), order...)
	for k, i := range unnamed {
		fns[names[k]] = fns[order[i]]
		delete(fns, order[i])
		out[i] = names[k]
	}
	return out, nil
}

// cstring decodes a SPIR-V literal string.
func cstring(ws []uint32) string {
	b := make([]byte, 0, 4*len(ws))
	for _, w := range ws {
		for k := 0; k < 4; k++ {
			c := byte(w >> (8 * k))
			if c == 0 {
				return string(b)
			}
			b = append(b, c)
		}
	}
	return string(b)
}
