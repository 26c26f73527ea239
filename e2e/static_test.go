package e2e

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cifarlab/internal/testenv"
)

// TestStaticSite exports the page with cifarlab site and serves the folder
// with Go's plain http.FileServer (no cifarlab serve, no compression): the
// page loads its compressed module, fetches the dataset files by relative
// URLs and trains LeNet5; without a dataset it asks for a file.
func TestStaticSite(t *testing.T) {
	testenv.Chromium(t)
	data := filepath.Join(testenv.Data(t), "exact")
	b := buildAll(t)
	out := filepath.Join(t.TempDir(), "static")
	if err := runIn(nil, b.cifarlab, "site", "-site", b.site, "-out", out, "-data", filepath.Join(data, "data_batch_1.bin"),
		"-test", filepath.Join(data, "test_batch.bin"), "-limit", "500"); err != nil {
		t.Fatal(err)
	}
	for name, most := range map[string]int64{"dataset/train.bin": 500 * 3073, "dataset/status": 4096} {
		fi, err := os.Stat(filepath.Join(out, name))
		if err != nil || fi.Size() > most {
			t.Errorf("%s: %v, size %d; want at most %d bytes", name, err, fi.Size(), most)
		}
	}
	// What a host that compresses nothing sends for the two programs.
	modules := int64(0)
	for _, name := range []string{"cifarlab.wasm", "cifarlab-worker.wasm"} {
		fi, err := os.Stat(filepath.Join(out, name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		modules += fi.Size()
		if _, err := os.Stat(filepath.Join(out, name)); err == nil {
			t.Errorf("the static site ships the uncompressed %s", name)
		}
	}
	if modules > 5e6 {
		t.Errorf("the compressed modules are %d bytes, more than 5 MB", modules)
	}
	t.Logf("the compressed modules: %d bytes", modules)

	url := fileServer(t, out) + "sub/"
	br := newBrowser(t, browserOptions{})
	first := br.openTimed(url+"?model=lenet5&autostart=1&limit=64&batch=16&eval=16", 3*time.Minute)
	noPageError(t, first)
	st := br.waitFor("three steps", 2*time.Minute, false, func(s status) bool { return s.Step >= 3 }, nil)
	if st.Dataset == "" || !strings.Contains(st.Dataset, "data_batch_1.bin") || st.TrainImages != 64 {
		t.Errorf("status %v, dataset %q, %d training images", st, st.Dataset, st.TrainImages)
	}
	for _, e := range br.console.errors() {
		t.Errorf("console: %s", e)
	}

	bare := filepath.Join(t.TempDir(), "bare")
	if err := runIn(nil, b.cifarlab, "site", "-site", b.site, "-out", bare); err != nil {
		t.Fatal(err)
	}
	br2 := newBrowser(t, browserOptions{})
	br2.navigate(fileServer(t, bare) + "sub/")
	br2.waitFor("the request for a file", 2*time.Minute, false, func(s status) bool {
		return strings.Contains(s.Notice, "pick or drop a CIFAR-10 file")
	}, nil)
}

// fileServer serves dir with http.FileServer under /sub/ on a free
// loopback port until the test ends, and returns its root URL.
func fileServer(t *testing.T, dir string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.StripPrefix("/sub/", http.FileServer(http.Dir(dir)))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}
