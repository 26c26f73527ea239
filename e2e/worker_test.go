package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestPauseWhileAStepRuns: the page trains in a Web Worker, so a pause
// shows at once, while the trainer finishes a ResNet18 step that takes
// seconds on the CPU (running false, pending true, in the same task that
// asked for it), and the trainer then stops and says so.
func TestPauseWhileAStepRuns(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	b.navigate(srv.url + "?model=resnet18&device=cpu&autostart=1&limit=64&batch=16&eval=16&inspect=0")
	b.waitFor("training", 3*time.Minute, false, func(s status) bool { return s.Running && s.Step >= 1 && !s.Pending }, nil)
	asked := eval[struct {
		Running bool   `json:"running"`
		Pending bool   `json:"pending"`
		Line    string `json:"line"`
	}](b, `(() => {
		globalThis.cifarlab.pause();
		const s = globalThis.cifarlab.status();
		return {running: s.running, pending: s.pending, line: document.getElementById("status").textContent};
	})()`)
	if asked.Running || !asked.Pending || !strings.Contains(asked.Line, "pausing after the step in progress") {
		t.Errorf("right after pause(): running %v, pending %v, status line %q; want false, true and a line that says it is pausing",
			asked.Running, asked.Pending, asked.Line)
	}
	st := b.waitFor("the trainer paused", 2*time.Minute, false, func(s status) bool { return !s.Running && !s.Pending }, nil)
	time.Sleep(3 * time.Second) // longer than a step
	if st2 := b.status(); st2.Step != st.Step || st2.Running || st2.Pending {
		t.Errorf("after the pause: %v, want it stopped at step %d", st2, st.Step)
	}
	eval[any](b, "globalThis.cifarlab.start()")
	b.waitFor("training again", 2*time.Minute, false, func(s status) bool { return s.Running && !s.Pending && s.Step > st.Step }, nil)
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
}

// TestTrainerFails: a trainer whose worker fails (here its script, from a
// script the test runs before it) is an error on the page and in
// status().error, not a page that waits for ever.
func TestTrainerFails(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	b.addWorkerInitScript(`throw new Error("the test's own failure");`)
	b.navigate(srv.url + "?model=lenet5&autostart=1")
	st := b.waitFor("the error", time.Minute, true, func(s status) bool { return s.Error != "" }, nil)
	for _, w := range []string{"the trainer stopped", "the test's own failure"} {
		if !strings.Contains(st.Error, w) {
			t.Errorf("status().error %q, want it to say %q", st.Error, w)
		}
	}
	checkErrorShown(t, b, "the trainer stopped")
}

// TestScriptBadArguments: window.cifarlab's calls that take a file or its
// bytes say what they were given instead, as the page's error, and the
// page goes on (the next good call clears it).
func TestScriptBadArguments(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	b.navigate(srv.url + "?model=lenet5&limit=32&batch=16&eval=16")
	b.waitFor("the page ready", 3*time.Minute, false, func(s status) bool { return s.Ready }, nil)
	for _, c := range []struct{ call, want string }{
		{`globalThis.cifarlab.loadDataset("cifar.tar.gz")`, "loadDataset takes a File or Blob, not a string"},
		{`globalThis.cifarlab.loadWeights(42)`, "loadWeights takes the file's bytes (a Uint8Array or an ArrayBuffer), not a number"},
		{`globalThis.cifarlab.inspectPicture({})`, "inspectPicture takes the file's bytes (a Uint8Array or an ArrayBuffer), not an Object"},
	} {
		eval[any](b, c.call)
		st := b.waitFor(c.call, time.Minute, true, func(s status) bool { return strings.Contains(s.Error, c.want) }, nil)
		if !st.Ready {
			t.Errorf("after %s the page is not ready: %v", c.call, st)
		}
	}
	eval[any](b, `globalThis.cifarlab.step()`)
	b.waitFor("a step after the bad calls", time.Minute, true, func(s status) bool { return s.Step >= 1 }, nil)
}
