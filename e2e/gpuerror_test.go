package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"cifarlab/internal/testenv"
)

// TestGPUErrors breaks the page's WebGPU on purpose, through scripts that
// wrap the browser's GPUDevice before the page's trainer runs (in its
// worker), and checks that each
// failure stops training with an error on the page and in status().error
// naming what failed, rather than hanging or training on zeros.
func TestGPUErrors(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		want         []string // in status().error and on the page
	}{{
		// A shader the browser's WGSL compiler rejects.
		name: "WGSL compile error",
		script: `{
			const create = GPUDevice.prototype.createShaderModule;
			GPUDevice.prototype.createShaderModule = function (desc) {
				if (desc && typeof desc.code === "string" && desc.code.includes("fn relu(")) {
					desc = Object.assign({}, desc, {code: desc.code + "\nfn broken( -> {\n"});
				}
				return create.call(this, desc);
			};
		}`,
		want: []string{"elementwise.wgsl"},
	}, {
		// A bind group that leaves a binding out: a validation error
		// the browser reports asynchronously, as an uncaptured error.
		name: "validation error",
		script: `{
			const create = GPUDevice.prototype.createBindGroup;
			GPUDevice.prototype.createBindGroup = function (desc) {
				if (desc && desc.entries && desc.entries.length > 1) {
					desc = Object.assign({}, desc, {entries: desc.entries.slice(0, -1)});
				}
				return create.call(this, desc);
			};
		}`,
		want: []string{"device error"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, b := setup(t, browserOptions{})
			b = b.with(t)
			b.addWorkerInitScript(tc.script)
			b.navigate(srv.url + "?model=lenet5&device=gpu&autostart=1&limit=32&batch=16&eval=16")
			if st := b.waitFor("the backend", 2*time.Minute, true, func(s status) bool { return s.Backend != "" }, nil); !st.gpu() {
				testenv.WebGPU(t, fmt.Sprintf("the page trains on %q (error %q)", st.Backend, st.Error))
			}
			st := b.waitFor("the error", 3*time.Minute, true, func(s status) bool { return s.Error != "" }, nil)
			t.Logf("the page's error: %s", st.Error)
			for _, w := range tc.want {
				if !strings.Contains(st.Error, w) {
					t.Errorf("status().error %q, want it to name %q", st.Error, w)
				}
				checkErrorShown(t, b, w)
			}
			time.Sleep(2 * time.Second)
			if st2 := b.status(); st2.Step != st.Step || st2.Running {
				t.Errorf("after the error: %v, want training stopped at step %d", st2, st.Step)
			}
		})
	}
}

// TestGPULost destroys the page's GPUDevice in the middle of training (a
// script in the worker calls destroy() after the device's 40th submit, as
// a GPU process crash or a driver reset would end it): the page says the
// GPU was lost, goes on from its copy of the weights on the host on a new
// device, and keeps training, without an error.
func TestGPULost(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	b = b.with(t)
	b.addWorkerInitScript(`{
		let first = null, submits = 0;
		const request = GPUAdapter.prototype.requestDevice;
		GPUAdapter.prototype.requestDevice = async function (desc) {
			const d = await request.call(this, desc);
			if (first === null) first = d;
			return d;
		};
		const submit = GPUQueue.prototype.submit;
		GPUQueue.prototype.submit = function (buffers) {
			const r = submit.call(this, buffers);
			if (first !== null && this === first.queue && ++submits === 40) first.destroy();
			return r;
		};
	}`)
	b.navigate(srv.url + "?model=lenet5&device=gpu&autostart=1&limit=128&batch=16&eval=16")
	if st := b.waitFor("the backend", 2*time.Minute, true, func(s status) bool { return s.Backend != "" }, nil); !st.gpu() {
		testenv.WebGPU(t, fmt.Sprintf("the page trains on %q (error %q)", st.Backend, st.Error))
	}
	st := b.waitFor("the loss to be told", 4*time.Minute, true, func(s status) bool { return strings.Contains(s.Notice, "the GPU was lost") }, nil)
	t.Logf("after the loss: %v; notice %q", st, st.Notice)
	from := st.Step
	st = b.waitFor("training to go on", 4*time.Minute, true, func(s status) bool { return s.Step >= from+3 }, nil)
	if st.Error != "" || !st.Running || !st.gpu() {
		t.Errorf("after the loss: %v, want training on a GPU without an error", st)
	}
}

// TestGPULostSave steps the page by hand, destroys its GPUDevice while it
// is paused (a message the worker's wrapper takes), and inspects another
// image: the page goes on from its copy of the weights on the host, made
// after the first step, and Save then gives the checkpoint Save gave after
// that step, byte for byte.
func TestGPULostSave(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	b = b.with(t)
	b.addWorkerInitScript(`{
		let first = null;
		const request = GPUAdapter.prototype.requestDevice;
		GPUAdapter.prototype.requestDevice = async function (desc) {
			const d = await request.call(this, desc);
			if (first === null) first = d;
			return d;
		};
		self.addEventListener("message", (e) => {
			if (e.data && e.data.cifarlabTestLoseDevice) {
				e.stopImmediatePropagation();
				first.destroy();
			}
		});
	}`)
	b.addInitScript(`{
		const Wrapped = globalThis.Worker;
		globalThis.cifarlabTestWorkers = [];
		globalThis.Worker = function (url, opts) {
			const w = new Wrapped(url, opts);
			globalThis.cifarlabTestWorkers.push(w);
			return w;
		};
	}`)
	b.navigate(srv.url + "?model=lenet5&device=gpu&limit=128&batch=16&eval=16")
	if st := b.waitFor("the backend", 2*time.Minute, true, func(s status) bool { return s.Backend != "" && s.Ready }, nil); !st.gpu() {
		testenv.WebGPU(t, fmt.Sprintf("the page trains on %q (error %q)", st.Backend, st.Error))
	}
	downloads := b.allowDownloads()
	step := func(want int) status {
		t.Helper()
		eval[any](b, "globalThis.cifarlab.step()")
		return b.waitFor(fmt.Sprintf("step %d", want), 3*time.Minute, true, func(s status) bool { return s.Step == want && !s.Pending || s.Error != "" }, nil)
	}
	step(1)
	afterOne := downloads.save(b)
	step(2)
	eval[any](b, "globalThis.cifarlabTestWorkers[0].postMessage({cifarlabTestLoseDevice: true})")
	// Inspecting another image uses the device, which shows it lost.
	eval[any](b, "globalThis.cifarlab.select(3)")
	st := b.waitFor("the loss to be told", 3*time.Minute, true, func(s status) bool { return strings.Contains(s.Notice, "the GPU was lost") || s.Error != "" }, nil)
	if st.Error != "" || st.Step != 1 || !st.gpu() {
		t.Fatalf("after the loss: %v; want step 1 (the copy's) on a new GPU device, without an error", st)
	}
	if got := downloads.save(b); !bytes.Equal(got, afterOne) {
		t.Errorf("Save after the loss gave %d bytes, not the %d of the checkpoint after step 1", len(got), len(afterOne))
	}
}
