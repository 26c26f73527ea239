// Package webgputest checks, inside a browser, the path that cifarlab's GPU
// code takes there: Go compiled to WebAssembly, run by wasmtest in headless
// Chromium, reaching WebGPU through syscall/js. Its tests are built only for
// GOOS=js GOARCH=wasm:
//
//	go build -o bin/wasmtest ./internal/wasmtest
//	GOOS=js GOARCH=wasm go test -exec "$PWD/bin/wasmtest" ./internal/wasmtest/webgputest
//
// Without WebGPU in the browser the WebGPU tests skip, unless
// CIFARLAB_REQUIRE names webgpu (as make test-browser does); then they fail.
package webgputest
