// cifarlab.js starts cifarlab's two programs with Go's wasm_exec.js: the
// page's, cifarlab.wasm (built from ../wasm by make site: the viewer and
// the page's controls), here, and the trainer, cifarlab-worker.wasm (from
// ../wasm/worker), in a Web Worker (cifarlab-worker.js), so that training
// never holds up this thread. Until the page's program runs,
// window.cifarlab.status() answers from here, and a failure to start
// shows in #error and in status().error.
"use strict";

(() => {
	const $ = (id) => document.getElementById(id);
	let failure = "";

	const showError = (msg) => {
		failure = String(msg);
		$("error-text").textContent = failure;
		$("error").hidden = false;
		$("loading").hidden = true;
	};
	$("error-close").addEventListener("click", () => { $("error").hidden = true; });
	// The bar's file pickers are labels: Enter or Space opens them too.
	for (const l of document.querySelectorAll("label.button")) {
		l.addEventListener("keydown", (e) => {
			if (e.key === "Enter" || e.key === " ") {
				e.preventDefault();
				l.click();
			}
		});
	}

	// The program replaces these functions when it starts; calls made
	// before then wait in _queue, and it makes them in order.
	const queue = [];
	globalThis.cifarlab = {
		_queue: queue,
		status: () => ({
			backend: "", model: "", step: 0, epoch: 0, loss: null, testAccuracy: null,
			imagesPerSec: null, error: failure, running: false, ready: false,
		}),
	};
	globalThis.cifarlab.runs = () => [];
	globalThis.cifarlab.prediction = () => null;
	globalThis.cifarlab.saliency = () => null;
	for (const name of ["start", "pause", "step", "reset", "save", "select", "setModel", "setLR",
		"setBatch", "loadWeights", "loadDataset", "experiment", "showTwin", "exportRuns", "inspectPicture",
		"reportError", "evaluate"]) {
		globalThis.cifarlab[name] = (...args) => { queue.push([name, args]); };
	}

	// The camera: a frame of its video, as a PNG, is a picture to inspect.
	const camera = $("camera-button");
	if (camera && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
		camera.hidden = false;
		let stream = null;
		const close = () => {
			if (stream) {
				stream.getTracks().forEach((t) => t.stop());
				stream = null;
			}
			$("camera").hidden = true;
		};
		camera.addEventListener("click", async () => {
			try {
				stream = await navigator.mediaDevices.getUserMedia({ video: true });
			} catch (err) {
				globalThis.cifarlab.reportError("the camera: " + (err && err.message ? err.message : err));
				return;
			}
			$("camera-video").srcObject = stream;
			$("camera").hidden = false;
			$("camera-take").focus();
		});
		$("camera-take").addEventListener("click", async () => {
			const v = $("camera-video");
			if (!v.videoWidth) {
				globalThis.cifarlab.reportError("the camera gives no picture yet: try again in a moment");
				return;
			}
			const c = document.createElement("canvas");
			c.width = v.videoWidth;
			c.height = v.videoHeight;
			c.getContext("2d").drawImage(v, 0, 0);
			const blob = await new Promise((resolve) => c.toBlob(resolve, "image/png"));
			close();
			globalThis.cifarlab.inspectPicture(new Uint8Array(await blob.arrayBuffer()), "camera");
		});
		$("camera-close").addEventListener("click", close);
	}

	window.addEventListener("error", (e) => showError("cifarlab: " + (e.message || e.error)));
	window.addEventListener("unhandledrejection", (e) => showError("cifarlab: " + e.reason));

	// compile fetches and compiles a module: url.wasm, which cifarlab serve
	// compresses, or on a static site (cifarlab site) url.wasm.gz, which the
	// page decompresses itself, so that a host that compresses nothing sends
	// a quarter of the bytes.
	const compile = async (url) => {
		if (url.endsWith(".gz")) {
			const gz = await fetch(url);
			if (!gz.ok) {
				throw new Error(`GET ${url}: ${gz.status} ${gz.statusText}`);
			}
			let bytes = new Uint8Array(await gz.arrayBuffer());
			if (bytes[0] === 0x1f && bytes[1] === 0x8b) { // not already decoded on the way (Content-Encoding)
				if (typeof DecompressionStream !== "function") {
					throw new Error(`this browser has no DecompressionStream to unpack ${url} (it needs Chrome 80, Safari 16.4 or Firefox 113, or later)`);
				}
				const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
				bytes = await new Response(stream).arrayBuffer();
			}
			return WebAssembly.compile(bytes);
		}
		try {
			return await WebAssembly.compileStreaming(fetch(url));
		} catch (err) {
			// A server that does not say application/wasm: compile from the bytes.
			const resp = await fetch(url);
			if (!resp.ok) {
				throw new Error(`GET ${url}: ${resp.status} ${resp.statusText}`);
			}
			return WebAssembly.compile(await resp.arrayBuffer());
		}
	};

	const start = async () => {
		if (typeof Go !== "function") {
			throw new Error("wasm_exec.js did not load (make site copies it beside index.html)");
		}
		// The page's module is index.html's <meta name="cifarlab-wasm">
		// (cifarlab.wasm or cifarlab.wasm.gz); the trainer's is beside it,
		// named cifarlab-worker.
		const meta = document.querySelector('meta[name="cifarlab-wasm"]');
		const url = meta ? meta.content : "cifarlab.wasm";
		const [pageModule, workerModule] = await Promise.all([compile(url), compile(url.replace(/^cifarlab\./, "cifarlab-worker."))]);

		// The trainer, and the mailbox the page's program takes its messages
		// from (see package pagewire).
		const worker = new Worker("cifarlab-worker.js");
		const box = { queue: [], receive: null, post: (msg, transfer) => worker.postMessage(msg, transfer) };
		const take = (msg) => (box.receive ? box.receive(msg) : box.queue.push(msg));
		worker.onmessage = (e) => take(e.data);
		// A worker whose script fails stops as its program would (and the
		// failure is the page's error, not an uncaught one).
		worker.onerror = (e) => {
			e.preventDefault();
			take({ op: "exit", error: e.message || "its script failed" });
		};
		worker.postMessage({ op: "start", module: workerModule, search: location.search, base: document.baseURI });
		globalThis.cifarlabWorker = box;

		const go = new Go();
		await go.run(await WebAssembly.instantiate(pageModule, go.importObject));
		showError("cifarlab stopped (see the browser's console)");
	};
	start().catch((err) => showError("cifarlab could not start: " + (err && err.message ? err.message : err)));
})();
