// Package site holds the page's own files, those kept in git (the built
// modules and Go's wasm_exec.js join them in make site), and gives Go
// programs the ones they serve themselves.
package site

import _ "embed"

// SIMDGlue is cifarlab-simd.js, which a page that runs a Go program linking
// cifarlab/cpu/vec loads and calls before it instantiates the program.
//
//go:embed cifarlab-simd.js
var SIMDGlue []byte
