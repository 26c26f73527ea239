//go:build !js

package gpu

import (
	"strings"
	"testing"

	"github.com/gogpu/gputypes"

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
