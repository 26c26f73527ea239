// run.js starts the Go program of wasmtest in the page. The host calls
// wasmtestStart(config) after the page loaded; every message back goes
// through the binding __wasmtest as one JSON string, so the messages and the
// console reach the host in the order in which they happened.
"use strict";

(() => {
	const send = (msg) => globalThis.__wasmtest(JSON.stringify(msg));

	// base64 encodes bytes in chunks that fit in the arguments of a call.
	const base64 = (bytes) => {
		let s = "";
		for (let i = 0; i < bytes.length; i += 0x8000) {
			s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
		}
		return btoa(s);
	};

	// Every write of the Go program (os.Stdout, os.Stderr, println, panics)
	// goes through fs.writeSync; wasm_exec.js's own version buffers lines
	// into console.log, which loses stderr and unterminated lines.
	globalThis.fs.writeSync = (fd, buf) => {
		send({ type: "write", fd: fd, data: base64(buf) });
		return buf.length;
	};

	const webgpu = async () => {
		if (!globalThis.isSecureContext) {
			return { ok: false, reason: "the page is not a secure context" };
		}
		if (!navigator.gpu) {
			return { ok: false, reason: "navigator.gpu is undefined (Chromium needs --enable-unsafe-webgpu)" };
		}
		const adapter = await navigator.gpu.requestAdapter();
		if (!adapter) {
			return { ok: false, reason: "navigator.gpu.requestAdapter() returned null" };
		}
		const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
		return {
			ok: true,
			vendor: info.vendor ?? "",
			architecture: info.architecture ?? "",
			device: info.device ?? "",
			description: info.description ?? "",
			fallback: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
		};
	};

	globalThis.wasmtestStart = async (config) => {
		try {
			if (config.checkWebGPU) {
				const gpu = await webgpu();
				send({ type: "webgpu", ...gpu });
				if (!gpu.ok && config.requireWebGPU) {
					return;
				}
			}
			const go = new Go();
			cifarlabSIMD(go); // the imports of cifarlab/cpu/vec
			go.argv = config.argv;
			go.env = config.env;
			go.exit = (code) => send({ type: "exit", code: code });
			const response = fetch(config.wasm);
			const { instance } = await WebAssembly.instantiateStreaming(response, go.importObject);
			send({ type: "started" });
			await go.run(instance);
		} catch (err) {
			send({ type: "error", message: String(err && err.stack ? err.stack : err) });
		}
	};
})();
