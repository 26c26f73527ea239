// Package e2e holds the end-to-end tests of cifarlab's web page: `cifarlab
// serve` with real CIFAR-10, and the page in headless Chromium with WebGPU
// (SwiftShader where there is no GPU), driven with chromedp.
//
//	CIFARLAB_TESTDATA=../shared/cifar10 go test -v ./e2e
//
// The tests build what they serve into a temporary folder: the cifarlab
// binary, and a site folder with the page (site/index.html and
// site/cifarlab.js), the wasm built from ./wasm as make site builds it,
// Go's wasm_exec.js and, with zstd or brotli installed, cifarlab.wasm.zst
// or cifarlab.wasm.br. Each test
// starts its own Chromium with a fresh profile, with these flags only:
//
//	--headless=new --enable-unsafe-webgpu --no-sandbox
//	--disable-background-networking --disable-component-update
//	--disable-sync --no-first-run --disable-quic
//
// (less --enable-unsafe-webgpu where a test needs a browser without
// WebGPU). They skip with a message without Chromium, real CIFAR-10, WebGPU
// or zstd, and fail instead when CIFARLAB_REQUIRE names chromium, testdata,
// webgpu or zstd (see package internal/testenv).
//
// With CIFARLAB_SCREENSHOTS=DIR set, the tests write screenshots of the page
// there (page-lenet5.png, page-resnet18.png, page-cpu.png), as in docs/.
package e2e
