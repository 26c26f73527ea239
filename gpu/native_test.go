//go:build !js

package gpu

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gogpu/gputypes"

	"cifarlab/internal/testenv"

	// gogpu's Software adapter, registered so that the tests see Open
	// pass it over.
	_ "github.com/gogpu/wgpu/hal/software"
)

// TestSoftwareAdapterRefused checks that Open never runs on gogpu's
// Software adapter (registered in this test binary), whose compute results
// are wrong: it picks a real adapter when there is one, and fails naming
// the Software adapter when that is all there is.
func TestSoftwareAdapterRefused(t *testing.T) {
	if usable(gputypes.AdapterInfo{Name: "Software Renderer", Backend: gputypes.BackendEmpty, DeviceType: gputypes.DeviceTypeCPU}) {
		t.Error("the Software adapter counts as usable")
	}
	if b, err := Open(Options{}); err == nil {
		if b.Adapter().Backend == gputypes.BackendEmpty {
			t.Errorf("Open chose %s", b.Name())
		}
		b.Close()
	}
	// GL is not registered: only the Software adapter remains.
	b, err := Open(Options{backends: gputypes.BackendsGL})
	if err == nil {
		b.Close()
		t.Fatalf("Open with only the Software adapter chose %s", b.Name())
	}
	if !strings.Contains(err.Error(), "Software") {
		t.Errorf("error does not name the Software adapter: %v", err)
	}
	t.Logf("Open: %v", err)
}

// TestQuietWithoutSession opens a backend in a child process without a
// desktop session (no XDG_RUNTIME_DIR) and checks that nothing prints
// libwayland's complaint about it, which Mesa's device-select layer would
// cause.
func TestQuietWithoutSession(t *testing.T) {
	if os.Getenv("CIFARLAB_OPEN_CHILD") == "1" {
		b, err := Open(Options{})
		if err != nil {
			os.Stdout.WriteString("no adapter: " + err.Error() + "\n")
			return
		}
		os.Stdout.WriteString("opened " + b.Name() + "\n")
		b.Close()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestQuietWithoutSession$", "-test.count=1")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") && !strings.HasPrefix(kv, "NODEVICE_SELECT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "CIFARLAB_OPEN_CHILD=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "opened ") {
		testenv.GPU(t, fmt.Errorf("the child opened no backend: %s", strings.TrimSpace(stdout.String())))
	}
	t.Logf("child: %s", strings.TrimSpace(stdout.String()))
	if strings.Contains(stderr.String(), "XDG_RUNTIME_DIR") {
		t.Errorf("opening a backend printed on stderr:\n%s", stderr.String())
	}
}
