// cifarlab-worker.js runs cifarlab's trainer, cifarlab-worker.wasm (built
// from ../wasm/worker by make site), in the Web Worker that cifarlab.js
// starts, so that training never holds up the page's thread. The page
// sends the compiled module, its URL's parameters and its base URL first
// ({op: "start", module, search, base}); the messages after it go to the
// program (package pagewire), which takes them from self.cifarlabPage.
// When the program stops, the page is told ({op: "exit", error}). Everything the
// worker fetches is resolved against the page's URL, not its own (which
// may be a blob: URL: the tests start it from one, with a script of their
// own before it).
"use strict";

const box = {
	queue: [], // the messages that came before the program took them
	receive: null, // set by the program
	search: "",
	base: "", // the page's URL
	post: (msg, transfer) => self.postMessage(msg, transfer),
};

const start = async (m) => {
	box.search = m.search || "";
	box.base = m.base || self.location.href;
	self.cifarlabPage = box;
	let error = "";
	try {
		importScripts(new URL("wasm_exec.js", box.base).href, new URL("cifarlab-simd.js", box.base).href);
		const go = new Go();
		cifarlabSIMD(go); // the imports of the CPU backend's SIMD kernel
		let code = 0;
		const exit = go.exit;
		go.exit = (c) => { code = c; exit(c); };
		const instance = await WebAssembly.instantiate(m.module, go.importObject);
		await go.run(instance);
		error = code ? `its program exited with status ${code} (a panic exits with 2)` : "its program returned";
	} catch (err) {
		console.error("cifarlab's trainer:", err);
		error = String(err && err.message ? err.message : err);
	}
	self.postMessage({ op: "exit", error });
};

self.onmessage = (e) => {
	const m = e.data;
	if (m && m.op === "start") {
		start(m);
	} else if (box.receive) {
		box.receive(m);
	} else {
		box.queue.push(m);
	}
};
