// cifarlab-simd.js gives a Go program compiled to WebAssembly the imports
// that package cifarlab/cpu/vec declares (module "cifarlab_simd"), for the
// CPU backend's SIMD128 kernels. Call cifarlabSIMD(go) on a new Go() before
// instantiating the program with go.importObject.
//
// The kernels are a module of their own (cpu/vec/simd.wasm, embedded in the
// program). The program hands its bytes to load() as it starts; load
// instantiates them with the program's memory as theirs, so the kernels
// work on the program's slices where they lie. The other imports forward
// to the module's functions of the same name. Where the browser cannot
// compile the module (no relaxed SIMD), load returns 0 and the program
// keeps its portable Go code.
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
				console.warn("cifarlab: no SIMD kernels here, the CPU backend uses its portable code:", String(err));
				return 0;
			}
		},
		tiles: (kc, a, b, ldb, c, ldc, load, beta, count) => simd.tiles(kc, a, b, ldb, c, ldc, load, beta, count),
		dot: (steps, a0, a1, b0, b1, b2, b3, acc) => simd.dot(steps, a0, a1, b0, b1, b2, b3, acc),
		add: (dst, src, n) => simd.add(dst, src, n),
		add3: (y, a, b, n) => simd.add3(y, a, b, n),
		relu: (y, x, n) => simd.relu(y, x, n),
		relu_mask: (dx, dy, y, n) => simd.relu_mask(dx, dy, y, n),
		affine: (y, x, n, a, c) => simd.affine(y, x, n, a, c),
		bn_dx: (d, g, x, n, mu, a, bx, b0) => simd.bn_dx(d, g, x, n, mu, a, bx, b0),
		shifted_sums: (x, n, shift, out) => simd.shifted_sums(x, n, shift, out),
		dot_sums: (dy, x, n, mu, out) => simd.dot_sums(dy, x, n, mu, out),
		fused: (x, y) => simd.fused(x, y),
	};
};
