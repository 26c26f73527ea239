package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cifarlab/internal/testenv"
)

// TestCorruptDataset serves a dataset file that is not one and checks that
// the page shows the server's error, then gives the page a broken file of
// its own and checks that it shows that error too.
func TestCorruptDataset(t *testing.T) {
	testenv.Chromium(t)
	bad := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	if err := os.WriteFile(bad, noise(50_000, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, buildAll(t), bad)
	b := newBrowser(t, browserOptions{})
	b.navigate(srv.url + "?model=lenet5&autostart=1")

	const serverErr = "the server's dataset"
	st := b.waitFor("the server's error", time.Minute, true, func(s status) bool { return strings.Contains(s.Error, serverErr) }, nil)
	t.Logf("the page's error: %s", st.Error)
	checkErrorShown(t, b, serverErr)
	if st.Ready || st.Step != 0 {
		t.Errorf("status: %v, want not ready and no step", st)
	}

	const name = "broken.bin" // a .bin is 3,073-byte records; this is not
	eval[any](b, `globalThis.cifarlab.loadDataset(new Blob([new Uint8Array(5000).fill(7)]), "`+name+`")`)
	st = b.waitFor("the error about "+name, time.Minute, true, func(s status) bool { return strings.Contains(s.Error, name) }, nil)
	t.Logf("the page's error: %s", st.Error)
	checkErrorShown(t, b, name)
	if st.Ready || st.Step != 0 {
		t.Errorf("status: %v, want not ready and no step", st)
	}
}

// checkErrorShown checks that the page's error element is visible and
// holds want, within a few seconds: the page refreshes its text 4 times a
// second, so the element can lag status() by that.
func checkErrorShown(t *testing.T, b *browser, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e := b.element("error")
		if e.Visible && strings.Contains(e.Text, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the error element: %+v, want it visible, with %q", e, want)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// noise is n pseudo-random bytes.
func noise(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// tinyBin writes a CIFAR-10 .bin of one record of each class.
func tinyBin(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	for label := range 10 {
		buf.WriteByte(byte(label))
		buf.Write(noise(3072, uint64(label)))
	}
	path := filepath.Join(t.TempDir(), "tiny.bin")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWasmOverTheWire measures the page's two modules (its own and its
// trainer's) as the server sends them: raw, gzip-compressed, and in the
// encodings of the sidecars made (zstd, brotli), and checks that Chromium
// gets the smallest.
func TestWasmOverTheWire(t *testing.T) {
	bin := buildAll(t)
	srv := startServer(t, bin, tinyBin(t))
	modules := []string{"cifarlab.wasm", "cifarlab-worker.wasm"}
	raws, smallest := map[string]int{}, map[string]int{}
	for _, name := range modules {
		raw := fetch(t, srv, name, "identity", "")
		gz := fetch(t, srv, name, "gzip", "gzip")
		if got, err := io.ReadAll(gunzip(t, gz)); err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%s: the gzip body does not decompress to the module (%d bytes, %v)", name, len(got), err)
		}
		if len(gz) >= len(raw) {
			t.Errorf("%s: gzip: %d bytes, not fewer than the %d raw", name, len(gz), len(raw))
		}
		sizes := map[string]int{"gzip": len(gz)}
		best := "gzip"
		for _, sc := range sidecars {
			if !bin.codings[sc.coding] {
				continue
			}
			n := len(fetch(t, srv, name, "gzip, "+sc.coding, sc.coding))
			if n >= len(gz) {
				t.Errorf("%s: %s: %d bytes, not fewer than gzip's %d", name, sc.coding, n, len(gz))
			}
			sizes[sc.coding] = n
			if n < sizes[best] {
				best = sc.coding
			}
		}
		raws[name], smallest[name] = len(raw), sizes[best]
		t.Logf("%s over the wire: %d bytes raw, %s", name, len(raw), sizesText(sizes, len(raw)))
	}

	testenv.Chromium(t)
	b := newBrowser(t, browserOptions{})
	b.navigate(srv.url)
	for _, name := range modules {
		got := eval[struct {
			Encoded float64 `json:"encoded"`
			Decoded float64 `json:"decoded"`
		}](b, fmt.Sprintf(`new Promise((resolve) => {
			const poll = () => {
				const e = performance.getEntriesByType("resource").find((e) => e.name.endsWith("/" + %q));
				if (e && e.responseEnd > 0) resolve({encoded: e.encodedBodySize, decoded: e.decodedBodySize});
				else setTimeout(poll, 20);
			};
			poll();
		})`, name))
		t.Logf("Chromium received %s as %.0f bytes, %.0f decoded", name, got.Encoded, got.Decoded)
		// Chromium accepts gzip, br and zstd on http://127.0.0.1.
		if int(got.Encoded) != smallest[name] || int(got.Decoded) != raws[name] {
			t.Errorf("Chromium received %s as %.0f bytes for %.0f, want the smallest encoding's %d for %d", name, got.Encoded, got.Decoded, smallest[name], raws[name])
		}
	}
	if !bin.codings["zstd"] {
		testenv.Zstd(t) // skips, or fails when zstd is required
	}
}

// sizesText lists the sizes of the encodings, with their share of raw.
func sizesText(sizes map[string]int, raw int) string {
	var parts []string
	for _, c := range []string{"gzip", "zstd", "br"} {
		if n, ok := sizes[c]; ok {
			parts = append(parts, fmt.Sprintf("%d %s (%.1f%%)", n, c, 100*float64(n)/float64(raw)))
		}
	}
	return strings.Join(parts, ", ")
}

// fetch gets the site file name with an Accept-Encoding and checks the encoding of
// the answer.
func fetch(t *testing.T, srv *server, name, accept, wantEncoding string) []byte {
	t.Helper()
	body, enc, err := srv.get(name, accept)
	if err != nil {
		t.Fatal(err)
	}
	if enc != wantEncoding {
		t.Errorf("Accept-Encoding %s: Content-Encoding %q, want %q", accept, enc, wantEncoding)
	}
	return body
}

func gunzip(t *testing.T, data []byte) io.Reader {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return r
}
