// cifarlab-simd.js gives a Go program compiled to WebAssembly the imports
// that package cifarlab/cpu/sgemm declares (module "cifarlab_simd"), for its
// SIMD128 micro-kernel. Call cifarlabSIMD(go) on a new Go() before
// instantiating the program with go.importObject.
//
// The kernel is a module of its own (cpu/sgemm/simd.wasm, embedded in the
// program). The program hands its bytes to load() as it starts; load
// instantiates them with the program's memory as theirs, so the kernel
// works on the program's slices where they lie. kernel() and fused()
// forward to it. Where the browser cannot compile the module (no relaxed
// SIMD), load returns 0 and the program keeps its portable kernel.
"use strict";

globalThis.cifarlabSIMD = (go) => {
	let simd = null;
	go.importObject.cifarlab_simd = {
		load: (ptr, size) => {
			try {
				const memory = go._inst.exports.mem;
				const bytes = new Uint8Array(memory.buffer, ptr >>> 0, size >>> 0).slice();
				simd = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
				return 1;
			} catch (err) {
				console.warn("cifarlab: no SIMD matrix kernel here, the CPU backend uses its portable one:", String(err));
				return 0;
			}
		},
		kernel: (kc, a, b, ldb, c, ldc, load, beta) => simd.kernel(kc, a, b, ldb, c, ldc, load, beta),
		fused: (x, y) => simd.fused(x, y),
	};
};
