// cifarlab-simd.js gives a Go program compiled to WebAssembly the imports
// that package cifarlab/cpu/vec declares (module "cifarlab_simd"), for the
// CPU backend's SIMD128 kernels. Call cifarlabSIMD(go) on a new Go() before
// instantiating the program with go.importObject.
//
// The kernels are two modules of their own (cpu/vec/simd.wasm and
// relaxed.wasm, embedded in the program). The program hands their bytes to
// load() as it starts; load instantiates them with the program's memory as
// theirs, so the kernels work on the program's slices where they lie. The
// other imports forward to the modules' functions of the same name. Where
// the browser cannot compile a module (relaxed.wasm needs relaxed SIMD,
// simd.wasm SIMD128), load returns 0 and the program does without it.
"use strict";

globalThis.cifarlabSIMD = (go) => {
	const kinds = ["base", "relaxed"];
	const m = {}; // the instances' exports by kind
	go.importObject.cifarlab_simd = {
		load: (kind, ptr, size) => {
			try {
				const memory = go._inst.exports.mem;
				const bytes = new Uint8Array(memory.buffer, ptr >>> 0, size >>> 0).slice();
				m[kinds[kind]] = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
				return 1;
			} catch (err) {
				console.warn(`cifarlab: no ${kinds[kind]} SIMD kernels here, the CPU backend does without them:`, String(err));
				return 0;
			}
		},
		tiles: (kc, a, b, ldb, c, ldc, load, beta, count) => m.relaxed.tiles(kc, a, b, ldb, c, ldc, load, beta, count),
		dot: (steps, a0, a1, b0, b1, b2, b3, acc) => m.relaxed.dot(steps, a0, a1, b0, b1, b2, b3, acc),
		fused: (x, y) => m.relaxed.fused(x, y),
		tiles64: (kc, a, b, ldb, c, ldc, load, beta, count) => m.base.tiles64(kc, a, b, ldb, c, ldc, load, beta, count),
		add: (dst, src, n) => m.base.add(dst, src, n),
		add3: (y, a, b, n) => m.base.add3(y, a, b, n),
		relu: (y, x, n) => m.base.relu(y, x, n),
		relu_mask: (dx, dy, y, n) => m.base.relu_mask(dx, dy, y, n),
		affine: (y, x, n, a, c) => m.base.affine(y, x, n, a, c),
		bn_dx: (d, g, x, n, mu, a, bx, b0) => m.base.bn_dx(d, g, x, n, mu, a, bx, b0),
		shifted_sums: (x, n, shift, out) => m.base.shifted_sums(x, n, shift, out),
		dot_sums: (dy, x, n, mu, out) => m.base.dot_sums(dy, x, n, mu, out),
	};
};
