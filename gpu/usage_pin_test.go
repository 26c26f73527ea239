package gpu

import (
	"os"
	"strings"
	"testing"

	"github.com/gogpu/gputypes"
)

// gogpuChecked is the gogpu/wgpu release whose queue writes usageTensor's
// Uniform flag was checked against: its pending_writes.go follows a
// WriteBuffer with a barrier only for buffers whose usage includes vertex,
// index, uniform or indirect (bufferReadUsage), so a storage-only tensor
// could be read by the next submit's shaders before an Upload's copy
// landed. On DX12 that flag also moves every storage buffer through
// another state after each write.
const gogpuChecked = "v0.34.5"

// TestTensorUsagePinned fails when gogpu/wgpu is another release than the
// one the workaround in usageTensor was checked against: read its
// pending_writes.go again, then keep Uniform (and bump gogpuChecked) or
// drop it if the barrier no longer depends on it.
func TestTensorUsagePinned(t *testing.T) {
	if usageTensor&gputypes.BufferUsageUniform == 0 {
		t.Fatal("tensor buffers lost their Uniform usage: queue writes to them are no longer followed by a barrier in gogpu " + gogpuChecked)
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Skipf("the module's go.mod: %v", err) // in the browser's test runner
	}
	for _, line := range strings.Split(string(mod), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "github.com/gogpu/wgpu" || f[0] == "replace" && f[1] == "github.com/gogpu/wgpu") {
			if f[0] == "replace" || f[1] != gogpuChecked {
				t.Fatalf("go.mod: %q; usageTensor's Uniform flag was checked against gogpu/wgpu %s's queue writes: check them again (see gogpuChecked)", strings.TrimSpace(line), gogpuChecked)
			}
			return
		}
	}
	t.Fatal("go.mod does not require github.com/gogpu/wgpu")
}
