package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdnet "net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cifarlab/cifar"
	"cifarlab/internal/dataserve"
	"cifarlab/internal/datasetapi"
	"cifarlab/internal/sitefiles"
)

// secret is what the files outside the site hold; no response may contain it.
const secret = "TOP-SECRET-OUTSIDE-THE-SITE"

// testSite writes a site folder with one file of each kind, a dotfile, a
// folder without index.html and symbolic links in and out of it, next to a
// secret file; it returns the site folder and the file contents by name.
func testSite(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	top := t.TempDir()
	site := filepath.Join(top, "site")
	var wasm bytes.Buffer
	for i := range 20000 { // compressible, like a real module
		fmt.Fprintf(&wasm, "\x00asm func %d local.get %d i32.add;", i%97, i%13)
	}
	files := map[string][]byte{
		"index.html":     []byte("<!doctype html><title>cifarlab</title><script src=wasm_exec.js></script>\n"),
		"wasm_exec.js":   bytes.Repeat([]byte("globalThis.Go = class { run() {} };\n"), 50),
		"cifarlab.wasm":  wasm.Bytes(),
		"style.css":      bytes.Repeat([]byte("body { margin: 0; }\n"), 40),
		"logo.png":       append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 500)...),
		"data.json":      []byte(`{"a": 1}`),
		"weights.xyz":    []byte("unknown type"),
		"sub/index.html": []byte("<p>sub</p>"),
		".secret":        []byte(secret + " dotfile"),
		"sub/.hidden":    []byte(secret + " hidden"),
		".git/config":    []byte(secret + " git"),
		"site.go":        []byte(secret + " Go source"),
	}
	for name, data := range files {
		writeTestFile(t, site, name, data)
	}
	os.Mkdir(filepath.Join(site, "empty"), 0o755)
	writeTestFile(t, top, "secret.txt", []byte(secret))
	writeTestFile(t, top, "other/secret.txt", []byte(secret))
	for link, target := range map[string]string{
		"escape.txt":      "../secret.txt",
		"abs-escape.txt":  filepath.Join(top, "secret.txt"),
		"linkdir":         "../other",
		"inside-link.css": "style.css",
	} {
		if err := os.Symlink(target, filepath.Join(site, link)); err != nil {
			t.Fatal(err)
		}
	}
	files["inside-link.css"] = files["style.css"]
	return site, files
}

func writeTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startServer serves siteDir and d (which may be nil: a dataset that stays
// preparing) until the test ends.
func startServer(t *testing.T, siteDir string, d *dataserve.Dataset) *httptest.Server {
	t.Helper()
	s, err := sitefiles.Open(siteDir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if d == nil {
		d = dataserve.New("", io.Discard)
	}
	srv := httptest.NewServer(&server{site: s, data: d})
	t.Cleanup(srv.Close)
	return srv
}

// client does not ask for or undo compression by itself.
var client = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// get requests url with headers given as name, value pairs and returns the
// response with its body read.
func get(t *testing.T, method, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestServeContentTypes(t *testing.T) {
	site, files := testSite(t)
	srv := startServer(t, site, nil)
	for _, tc := range []struct{ path, file, typ string }{
		{"/", "index.html", "text/html; charset=utf-8"},
		{"/index.html", "index.html", "text/html; charset=utf-8"},
		{"/sub/", "sub/index.html", "text/html; charset=utf-8"},
		{"/wasm_exec.js", "wasm_exec.js", "text/javascript; charset=utf-8"},
		{"/cifarlab.wasm", "cifarlab.wasm", "application/wasm"},
		{"/style.css", "style.css", "text/css; charset=utf-8"},
		{"/inside-link.css", "inside-link.css", "text/css; charset=utf-8"},
		{"/logo.png", "logo.png", "image/png"},
		{"/data.json", "data.json", "application/json"},
		{"/weights.xyz", "weights.xyz", "application/octet-stream"},
		{"/index.html?v=3", "index.html", "text/html; charset=utf-8"},
	} {
		resp, body := get(t, "GET", srv.URL+tc.path)
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Type") != tc.typ || !bytes.Equal(body, files[tc.file]) ||
			h.Get("Content-Encoding") != "" || h.Get("Content-Length") != fmt.Sprint(len(files[tc.file])) ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: %s, headers %v, %d bytes; want 200, %s, the %d bytes of %s",
				tc.path, resp.Status, h, len(body), tc.typ, len(files[tc.file]), tc.file)
		}
	}
}

func TestServeGzip(t *testing.T) {
	site, files := testSite(t)
	srv := startServer(t, site, nil)
	for _, tc := range []struct {
		path, accept string
		gzipped      bool
	}{
		{"/cifarlab.wasm", "gzip, deflate, br, zstd", true},
		{"/cifarlab.wasm", "br;q=1.0, gzip;q=0.8", true},
		{"/cifarlab.wasm", "*", true},
		{"/cifarlab.wasm", "x-gzip", true},
		{"/cifarlab.wasm", "", false},
		{"/cifarlab.wasm", "identity", false},
		{"/cifarlab.wasm", "gzip;q=0", false},
		{"/cifarlab.wasm", "*, gzip;q=0", false},
		{"/cifarlab.wasm", "br", false},
		{"/wasm_exec.js", "gzip", true},
		{"/index.html", "gzip", false}, // too small to gain
		{"/logo.png", "gzip", false},   // already compressed
	} {
		file := strings.TrimPrefix(tc.path, "/")
		resp, body := get(t, "GET", srv.URL+tc.path, "Accept-Encoding", tc.accept)
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Vary") != "Accept-Encoding" || h.Get("Content-Length") != fmt.Sprint(len(body)) {
			t.Errorf("GET %s (Accept-Encoding %q): %s, headers %v", tc.path, tc.accept, resp.Status, h)
			continue
		}
		if got := h.Get("Content-Encoding") == "gzip"; got != tc.gzipped {
			t.Errorf("GET %s (Accept-Encoding %q): Content-Encoding %q, want gzip %v", tc.path, tc.accept, h.Get("Content-Encoding"), tc.gzipped)
			continue
		}
		if tc.gzipped {
			if len(body) >= len(files[file]) {
				t.Errorf("%s: gzip %d bytes, plain %d", tc.path, len(body), len(files[file]))
			}
			body = gunzip(t, body)
		}
		if !bytes.Equal(body, files[file]) {
			t.Errorf("GET %s (Accept-Encoding %q): the body differs from the file", tc.path, tc.accept)
		}
	}
}

func TestServeETagAndHead(t *testing.T) {
	site, files := testSite(t)
	srv := startServer(t, site, nil)
	url := srv.URL + "/cifarlab.wasm"
	sum := sha256.Sum256(files["cifarlab.wasm"])
	plainTag, gzipTag := `"`+hex.EncodeToString(sum[:])+`"`, `"`+hex.EncodeToString(sum[:])+`-gzip"`
	resp, _ := get(t, "GET", url)
	zresp, _ := get(t, "GET", url, "Accept-Encoding", "gzip")
	if resp.Header.Get("ETag") != plainTag || zresp.Header.Get("ETag") != gzipTag {
		t.Fatalf("ETags %q and %q, want %q and %q", resp.Header.Get("ETag"), zresp.Header.Get("ETag"), plainTag, gzipTag)
	}
	for _, tc := range []struct {
		accept, ifNoneMatch string
		status              int
	}{
		{"", plainTag, 304},
		{"", "W/" + plainTag, 304},
		{"", `"other", ` + plainTag, 304},
		{"", "*", 304},
		{"gzip", gzipTag, 304},
		{"gzip", plainTag, 200}, // another representation
		{"", gzipTag, 200},
		{"", `"stale"`, 200},
	} {
		resp, body := get(t, "GET", url, "Accept-Encoding", tc.accept, "If-None-Match", tc.ifNoneMatch)
		if resp.StatusCode != tc.status || (tc.status == 304 && (len(body) != 0 || resp.Header.Get("ETag") == "")) {
			t.Errorf("If-None-Match %s, Accept-Encoding %q: %s with %d bytes, want %d", tc.ifNoneMatch, tc.accept, resp.Status, len(body), tc.status)
		}
	}

	resp, body := get(t, "HEAD", url, "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("ETag") != gzipTag || resp.Header.Get("Content-Encoding") != "gzip" ||
		resp.ContentLength <= 0 || resp.ContentLength >= int64(len(files["cifarlab.wasm"])) {
		t.Fatalf("HEAD: %s, headers %v, %d bytes", resp.Status, resp.Header, len(body))
	}
	resp, body = get(t, "HEAD", url)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(files["cifarlab.wasm"])) {
		t.Fatalf("HEAD: %s, length %d, %d bytes", resp.Status, resp.ContentLength, len(body))
	}

	// A rebuilt file is served at once, with a new tag.
	rebuilt := []byte("rebuilt module")
	path := filepath.Join(site, "cifarlab.wasm")
	writeTestFile(t, site, "cifarlab.wasm", rebuilt)
	later := time.Now().Add(time.Minute)
	os.Chtimes(path, later, later)
	resp, body = get(t, "GET", url, "If-None-Match", plainTag)
	if resp.StatusCode != 200 || !bytes.Equal(body, rebuilt) || resp.Header.Get("ETag") == plainTag {
		t.Fatalf("after a rebuild: %s, %q, ETag %s", resp.Status, body, resp.Header.Get("ETag"))
	}
}

// rawGet sends a request line as written, with nothing normalised by a
// client, and returns the status and body.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	conn, err := stdnet.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServeRejectsTraversal(t *testing.T) {
	site, _ := testSite(t)
	srv := startServer(t, site, nil)
	addr := srv.Listener.Addr().String()
	top := filepath.Dir(site)
	if code, body := rawGet(t, addr, "/style.css"); code != 200 || !strings.Contains(body, "margin") {
		t.Fatalf("the raw request itself fails: %d %q", code, body)
	}
	for _, target := range []string{
		// climbing out
		"/../secret.txt",
		"/../../../../../../etc/passwd",
		"/sub/../../secret.txt",
		"/sub/../index.html",
		"/./index.html",
		"/..",
		// encoded and double-encoded
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/.%2e/secret.txt",
		"/..%2fsecret.txt",
		"/..%2Fsecret.txt",
		"/%2e%2e%2fsecret.txt",
		"/sub%2f..%2f..%2fsecret.txt",
		"/%252e%252e/secret.txt",
		"/%252e%252e%252fsecret.txt",
		"/%25252e%25252e%25252fsecret.txt",
		"/%c0%ae%c0%ae/secret.txt", // overlong UTF-8 dots
		"/%69ndex.html",            // even a harmless escape
		"/index.html%00",
		"/index.html%00.png",
		// backslashes
		"/..\\secret.txt",
		"/..%5csecret.txt",
		"/%5c..%5csecret.txt",
		"/sub\\..\\..\\secret.txt",
		// absolute paths
		"//etc/passwd",
		"//" + strings.TrimPrefix(filepath.Join(top, "secret.txt"), "/"),
		filepath.Join(top, "secret.txt"),
		"/%2fetc%2fpasswd",
		"/%2F" + strings.TrimPrefix(filepath.Join(top, "secret.txt"), "/"),
		"/C:/Windows/win.ini",
		"/c:%5cwindows%5cwin.ini",
		"http://" + addr + "/../secret.txt",
		"http://" + addr + "//etc/passwd",
		// symbolic links out of the site
		"/escape.txt",
		"/abs-escape.txt",
		"/linkdir/secret.txt",
		"/linkdir/",
		// dotfiles
		"/.secret",
		"/sub/.hidden",
		"/.git/config",
		"/.git/",
		// Go source (site/site.go embeds a page file)
		"/site.go",
		// folders: no listing
		"/empty/",
		"/empty",
		"/sub",
		"/linkdir",
		"/missing.html",
		"/dataset/",
		"/dataset/../index.html",
	} {
		code, body := rawGet(t, addr, target)
		if code != 404 && code != 400 || strings.Contains(body, secret) || strings.Contains(body, "cifarlab") {
			t.Errorf("GET %s: %d %q; want 404 (or 400) and nothing from outside", target, code, body)
		}
	}
}

// Behind the path check, the site itself opens nothing outside its folder.
func TestSiteStaysInside(t *testing.T) {
	dir, _ := testSite(t)
	s, err := sitefiles.Open(dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"../secret.txt", "sub/../../secret.txt", "escape.txt", "abs-escape.txt",
		"linkdir/secret.txt", filepath.Join(filepath.Dir(dir), "secret.txt"), "empty", "sub"} {
		if b, err := s.Get(name); err == nil {
			t.Errorf("get(%q) = %q, want an error", name, b.Raw)
		}
	}
	if b, err := s.Get("inside-link.css"); err != nil || !strings.Contains(string(b.Raw), "margin") {
		t.Errorf("a link inside the site: %v", err)
	}
}

func TestServeMethods(t *testing.T) {
	site, _ := testSite(t)
	srv := startServer(t, site, nil)
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		for _, path := range []string{"/index.html", "/dataset/status"} {
			resp, _ := get(t, method, srv.URL+path)
			if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %s, Allow %q", method, path, resp.Status, resp.Header.Get("Allow"))
			}
		}
	}
}

// Precompressed sidecars are sent to browsers that take their coding,
// while they are not older than the file and smaller than its gzip.
func TestServeSidecars(t *testing.T) {
	site, files := testSite(t)
	srv := startServer(t, site, nil)
	url := srv.URL + "/cifarlab.wasm"
	zst := []byte("pretend zstd frame: the server never decodes it")
	br := []byte("pretend brotli, smaller")
	writeTestFile(t, site, "cifarlab.wasm.zst", zst)
	sum := sha256.Sum256(files["cifarlab.wasm"])
	hash := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		accept, coding string
		body           []byte
	}{
		{"gzip, deflate, br, zstd", "zstd", zst},
		{"zstd", "zstd", zst},
		{"gzip, br", "gzip", nil},
		{"identity", "", files["cifarlab.wasm"]},
	} {
		resp, body := get(t, "GET", url, "Accept-Encoding", tc.accept)
		want := `"` + hash + `"`
		if tc.coding != "" {
			want = `"` + hash + "-" + tc.coding + `"`
		}
		if tc.body == nil {
			body = gunzip(t, body)
			tc.body = files["cifarlab.wasm"]
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != tc.coding || resp.Header.Get("ETag") != want ||
			resp.Header.Get("Content-Type") != "application/wasm" || !bytes.Equal(body, tc.body) {
			t.Errorf("Accept-Encoding %q: %s, headers %v", tc.accept, resp.Status, resp.Header)
		}
		if resp, _ := get(t, "GET", url, "Accept-Encoding", tc.accept, "If-None-Match", want); resp.StatusCode != 304 {
			t.Errorf("Accept-Encoding %q, If-None-Match %s: %s", tc.accept, want, resp.Status)
		}
	}

	// The smallest wins.
	writeTestFile(t, site, "cifarlab.wasm.br", br)
	if resp, body := get(t, "GET", url, "Accept-Encoding", "gzip, deflate, br, zstd"); resp.Header.Get("Content-Encoding") != "br" || !bytes.Equal(body, br) {
		t.Errorf("with both sidecars: %v", resp.Header)
	}
	os.Remove(filepath.Join(site, "cifarlab.wasm.br"))

	// A rebuilt module makes the sidecar stale until it is made again.
	rebuilt := bytes.Repeat([]byte("rebuilt module "), 1000)
	path := writeTestFile(t, site, "cifarlab.wasm", rebuilt)
	later := time.Now().Add(time.Minute)
	os.Chtimes(path, later, later)
	resp, body := get(t, "GET", url, "Accept-Encoding", "gzip, zstd")
	if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(gunzip(t, body), rebuilt) {
		t.Fatalf("with a stale sidecar: %v", resp.Header)
	}
	zstPath := writeTestFile(t, site, "cifarlab.wasm.zst", zst)
	os.Chtimes(zstPath, later, later) // made from it: not older
	if resp, body := get(t, "GET", url, "Accept-Encoding", "gzip, zstd"); resp.Header.Get("Content-Encoding") != "zstd" || !bytes.Equal(body, zst) {
		t.Fatalf("with a fresh sidecar: %v", resp.Header)
	}
	// brotli -o and gzip -k give the copy the file's time, to the second.
	os.Chtimes(zstPath, later.Truncate(time.Second), later.Truncate(time.Second))
	if resp, _ := get(t, "GET", url, "Accept-Encoding", "gzip, zstd"); resp.Header.Get("Content-Encoding") != "zstd" {
		t.Fatalf("with a sidecar of the file's time to the second: %v", resp.Header)
	}

	// A sidecar larger than the gzip encoding is not used.
	writeTestFile(t, site, "cifarlab.wasm.zst", bytes.Repeat([]byte{1}, len(rebuilt)-1))
	os.Chtimes(zstPath, later.Add(time.Second), later.Add(time.Second))
	if resp, _ := get(t, "GET", url, "Accept-Encoding", "gzip, zstd"); resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("with a large sidecar: %v", resp.Header)
	}
}

func TestSiteURL(t *testing.T) {
	for _, tc := range []struct {
		ip       string
		url      string
		loopback bool
	}{
		{"127.0.0.1", "http://127.0.0.1:8080/", true},
		{"::1", "http://[::1]:8080/", true},
		{"0.0.0.0", "http://127.0.0.1:8080/", false},
		{"::", "http://127.0.0.1:8080/", false},
		{"192.168.1.5", "http://192.168.1.5:8080/", false},
	} {
		url, loopback := siteURL(&stdnet.TCPAddr{IP: stdnet.ParseIP(tc.ip), Port: 8080})
		if url != tc.url || loopback != tc.loopback {
			t.Errorf("%s: %q, loopback %v; want %q, %v", tc.ip, url, loopback, tc.url, tc.loopback)
		}
	}
}

// The dataset.

// smoothRecords returns n records with labels i%10 and smooth, compressible
// pixels that differ from record to record.
func smoothRecords(n, seed int) []byte {
	data := make([]byte, n*cifar.RecordSize)
	for i := range n {
		rec := data[i*cifar.RecordSize : (i+1)*cifar.RecordSize]
		rec[0] = byte(i % 10)
		for p := range cifar.PixelSize {
			c, y, x := p/cifar.PlaneSize, p/cifar.ImageSize%cifar.ImageSize, p%cifar.ImageSize
			rec[1+p] = byte((x*(c+1) + y*(i+seed)) / 3)
		}
	}
	return data
}

// binData writes a folder of binary batches and returns it with its records.
func binData(t *testing.T) (dir string, train, test []byte) {
	dir = t.TempDir()
	train, test = smoothRecords(30, 1), smoothRecords(12, 2)
	writeTestFile(t, dir, "data_batch_1.bin", train[:20*cifar.RecordSize])
	writeTestFile(t, dir, "data_batch_2.bin", train[20*cifar.RecordSize:])
	writeTestFile(t, dir, "test_batch.bin", test)
	return dir, train, test
}

// status reads /dataset/status.
func status(t *testing.T, base string) datasetapi.Status {
	t.Helper()
	resp, body := get(t, "GET", base+"/dataset/status")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status: %s, headers %v", resp.Status, resp.Header)
	}
	for _, field := range []string{"state", "source", "classes", "train", "test", "progress", "done", "total", "error", "etag"} {
		if !strings.Contains(string(body), `"`+field+`":`) {
			t.Fatalf("status %s lacks %q", body, field)
		}
	}
	var s datasetapi.Status
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("status %s: %v", body, err)
	}
	return s
}

// waitState polls the status until cond holds.
func waitState(t *testing.T, base string, what string, cond func(datasetapi.Status) bool) datasetapi.Status {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := status(t, base)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s; status %+v", what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func hasState(state string) func(datasetapi.Status) bool {
	return func(s datasetapi.Status) bool { return s.State == state }
}

// startDataset starts d until the test ends.
func startDataset(t *testing.T, d *dataserve.Dataset) {
	ctx, cancel := context.WithCancel(context.Background())
	done := d.Start(ctx)
	t.Cleanup(func() { cancel(); <-done })
}

// notReady checks that a dataset file is refused with a JSON error.
func notReady(t *testing.T, base, name string, code int, state string, msg ...string) {
	t.Helper()
	resp, body := get(t, "GET", base+"/dataset/"+name)
	var e struct{ State, Error string }
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != code || e.State != state ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s: %s %s; want %d and a JSON error in state %s", name, resp.Status, body, code, state)
	}
	if code == 503 && resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%s: 503 without Retry-After", name)
	}
	for _, m := range msg {
		if !strings.Contains(e.Error, m) {
			t.Fatalf("%s: error %q lacks %q", name, e.Error, m)
		}
	}
}

// checkFile checks a dataset file in every encoding: its bytes, headers,
// ETag and 304.
func checkFile(t *testing.T, base, name string, want []byte) {
	t.Helper()
	url := base + "/dataset/" + name
	sum := sha256.Sum256(want)
	tag := `"` + hex.EncodeToString(sum[:]) + `"`
	resp, body := get(t, "GET", url)
	h := resp.Header
	if resp.StatusCode != 200 || !bytes.Equal(body, want) || h.Get("Content-Type") != "application/octet-stream" ||
		h.Get("Content-Length") != fmt.Sprint(len(want)) || h.Get("ETag") != tag || h.Get("Content-Encoding") != "" ||
		h.Get("Vary") != "Accept-Encoding" || h.Get("Cache-Control") != "no-cache" {
		t.Fatalf("%s: %s, headers %v, %d bytes; want the %d bytes of the records", name, resp.Status, h, len(body), len(want))
	}
	resp, body = get(t, "GET", url, "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("ETag") != strings.TrimSuffix(tag, `"`)+`-gzip"` ||
		len(body) >= len(want) || !bytes.Equal(gunzip(t, body), want) {
		t.Fatalf("%s with gzip: %s, headers %v, %d bytes", name, resp.Status, resp.Header, len(body))
	}
	resp, body = get(t, "HEAD", url)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(want)) {
		t.Fatalf("HEAD %s: %s, length %d", name, resp.Status, resp.ContentLength)
	}
	if resp, _ = get(t, "GET", url, "If-None-Match", tag); resp.StatusCode != 304 {
		t.Fatalf("%s with If-None-Match: %s", name, resp.Status)
	}
}

func TestDatasetPreparingThenReady(t *testing.T) {
	site, _ := testSite(t)
	dir, train, test := binData(t)
	d := dataserve.New(dir, io.Discard)
	gate := make(chan struct{})
	d.Open = func(path string) (*cifar.Dataset, error) { <-gate; return cifar.Open(path) }
	srv := startServer(t, site, d)
	startDataset(t, d)

	s := waitState(t, srv.URL, "preparing", func(s datasetapi.Status) bool { return s.Source == dir })
	if s.State != datasetapi.Preparing || s.Classes == nil || len(s.Classes) != 0 || s.Train != 0 || s.ETag != "" || s.Error != "" {
		t.Fatalf("while preparing: %+v", s)
	}
	notReady(t, srv.URL, "train.bin", 503, datasetapi.Preparing, "not ready", "/dataset/status")
	notReady(t, srv.URL, "test.bin", 503, datasetapi.Preparing)
	close(gate)

	s = waitState(t, srv.URL, "ready", hasState(datasetapi.Ready))
	if !slices.Equal(s.Classes, cifar.CIFAR10Classes) || s.Train != 30 || s.Test != 12 || len(s.ETag) != 64 ||
		s.Error != "" || s.Progress.Done != 0 || s.Progress.Total != 0 || s.Source != dir {
		t.Fatalf("ready: %+v", s)
	}
	<-d.Compressed()
	checkFile(t, srv.URL, "train.bin", train)
	checkFile(t, srv.URL, "test.bin", test)
	if resp, _ := get(t, "GET", srv.URL+"/dataset/other.bin"); resp.StatusCode != 404 {
		t.Fatalf("other.bin: %s", resp.Status)
	}
}

// Before its gzip encoding is made, a file is sent as it is.
func TestDatasetPlainBeforeCompressed(t *testing.T) {
	site, _ := testSite(t)
	dir, train, _ := binData(t)
	d := dataserve.New(dir, io.Discard)
	srv := startServer(t, site, d)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // compression gives up at once, as on shutdown
	if err := d.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.Compress(ctx)
	resp, body := get(t, "GET", srv.URL+"/dataset/train.bin", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, train) {
		t.Fatalf("%s, headers %v", resp.Status, resp.Header)
	}
}

func TestDatasetSingleBin(t *testing.T) {
	site, _ := testSite(t)
	records := smoothRecords(7, 3)
	path := writeTestFile(t, t.TempDir(), "extra.bin", records)
	d := dataserve.New(path, io.Discard)
	srv := startServer(t, site, d)
	startDataset(t, d)
	s := waitState(t, srv.URL, "ready", hasState(datasetapi.Ready))
	if s.Train != 7 || s.Test != 0 {
		t.Fatalf("ready: %+v", s)
	}
	<-d.Compressed()
	checkFile(t, srv.URL, "train.bin", records)
	notReady(t, srv.URL, "test.bin", 404, datasetapi.Ready, "extra.bin has no test split")
}

func TestDatasetErrors(t *testing.T) {
	site, _ := testSite(t)
	corrupt := t.TempDir()
	writeTestFile(t, corrupt, "data_batch_1.bin", smoothRecords(3, 1)[:2*cifar.RecordSize+100])
	testOnly := t.TempDir()
	writeTestFile(t, testOnly, "test_batch.bin", smoothRecords(3, 1))
	for _, tc := range []struct {
		path string
		want []string
	}{
		{corrupt, []string{filepath.Join(corrupt, "data_batch_1.bin")}},
		{filepath.Join(t.TempDir(), "missing.tar.gz"), []string{"missing.tar.gz", "no such file"}},
		{testOnly, []string{testOnly, "no training images"}},
	} {
		d := dataserve.New(tc.path, io.Discard)
		srv := startServer(t, site, d)
		startDataset(t, d)
		s := waitState(t, srv.URL, "error", hasState(datasetapi.Error))
		for _, w := range tc.want {
			if !strings.Contains(s.Error, w) {
				t.Errorf("%s: error %q lacks %q", tc.path, s.Error, w)
			}
		}
		notReady(t, srv.URL, "train.bin", 503, datasetapi.Error, tc.want...)
	}
}

// officialArchive is a small archive laid out as cifar-10-binary.tar.gz,
// with its records.
func officialArchive(t *testing.T) (archive, train, test []byte) {
	train, test = smoothRecords(25, 4), smoothRecords(10, 5)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range []struct {
		name string
		data []byte
	}{
		{"cifar-10-batches-bin/batches.meta.txt", []byte(strings.Join(cifar.CIFAR10Classes, "\n") + "\n")},
		{"cifar-10-batches-bin/data_batch_1.bin", train},
		{"cifar-10-batches-bin/test_batch.bin", test},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	if err := errors.Join(tw.Close(), zw.Close()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), train, test
}

// remoteFor describes body at url as cifar.Official describes the real one.
func remoteFor(url string, body []byte) cifar.Remote {
	s, m := sha256.Sum256(body), md5.Sum(body)
	return cifar.Remote{URL: url, Name: cifar.Official.Name, Size: int64(len(body)),
		SHA256: hex.EncodeToString(s[:]), MD5: hex.EncodeToString(m[:])}
}

// Without -data the archive is downloaded once into the cache, the status
// showing the bytes as they come, then read; a second server uses the cache.
func TestDatasetDownload(t *testing.T) {
	site, _ := testSite(t)
	archive, train, test := officialArchive(t)
	half := len(archive) / 2
	release := make(chan struct{})
	var hits atomic.Int32
	official := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Length", fmt.Sprint(len(archive)))
		w.Write(archive[:half])
		w.(http.Flusher).Flush()
		select {
		case <-release:
			w.Write(archive[half:])
		case <-r.Context().Done(): // the test failed early
		}
	}))
	t.Cleanup(official.Close) // after the dataset below stops, so that a failing test ends
	cache := filepath.Join(t.TempDir(), "cache")
	url := official.URL + "/~kriz/cifar-10-binary.tar.gz"

	d := dataserve.New("", io.Discard)
	d.Remote = remoteFor(url, archive)
	d.CacheDir = func() (string, error) { return cache, nil }
	srv := startServer(t, site, d)
	startDataset(t, d)
	s := waitState(t, srv.URL, "half the download", func(s datasetapi.Status) bool { return s.Progress.Done >= int64(half) })
	if s.State != datasetapi.Downloading || s.Source != url || s.Progress.Total != int64(len(archive)) || s.Progress.Done >= int64(len(archive)) {
		t.Fatalf("while downloading: %+v", s)
	}
	notReady(t, srv.URL, "train.bin", 503, datasetapi.Downloading)
	close(release)
	s = waitState(t, srv.URL, "ready", hasState(datasetapi.Ready))
	cached := filepath.Join(cache, cifar.Official.Name)
	if s.Source != cached || s.Train != 25 || s.Test != 10 || s.Progress.Done != int64(len(archive)) {
		t.Fatalf("ready: %+v", s)
	}
	<-d.Compressed()
	checkFile(t, srv.URL, "train.bin", train)
	checkFile(t, srv.URL, "test.bin", test)

	// Cached: no second download, even with nothing listening.
	again := dataserve.New("", io.Discard)
	again.Remote = remoteFor("http://127.0.0.1:1/unreachable", archive)
	again.CacheDir = d.CacheDir
	srv2 := startServer(t, site, again)
	startDataset(t, again)
	if s2 := waitState(t, srv2.URL, "ready", hasState(datasetapi.Ready)); s2.ETag != s.ETag || s2.Progress.Total != 0 || hits.Load() != 1 {
		t.Fatalf("from the cache: %+v (first %+v), %d downloads", s2, s, hits.Load())
	}
}

// Offline without data: the error the command line gives, naming -data.
func TestDatasetOffline(t *testing.T) {
	site, _ := testSite(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL + "/cifar-10-binary.tar.gz"
	gone.Close() // connection refused from now on
	d := dataserve.New("", io.Discard)
	d.Remote = remoteFor(url, []byte("x"))
	cache := t.TempDir()
	d.CacheDir = func() (string, error) { return cache, nil }
	srv := startServer(t, site, d)
	startDataset(t, d)
	s := waitState(t, srv.URL, "error", hasState(datasetapi.Error))
	for _, want := range []string{url, "offline", "pass -data PATH", "cifar-10-binary.tar.gz"} {
		if !strings.Contains(s.Error, want) {
			t.Errorf("error %q lacks %q", s.Error, want)
		}
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("the cache holds %d files after a failed download", len(entries))
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The whole command: it prints the URL, serves the site and the data, and
// stops when cancelled (Ctrl-C).
func TestServeCommand(t *testing.T) {
	site, files := testSite(t)
	dir, train, _ := binData(t)
	f, err := parseServeFlags([]string{"-addr", "127.0.0.1:0", "-site", site, "-data", dir}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, f, &stdout, &stderr) }()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed; stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		if out := stdout.String(); strings.HasSuffix(out, "/\n") {
			url = strings.TrimSuffix(out[strings.LastIndex(out, " ")+1:], "\n")
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.Contains(stdout.String(), site) {
		t.Fatalf("stdout %q", stdout.String())
	}
	if resp, body := get(t, "GET", url); resp.StatusCode != 200 || !bytes.Equal(body, files["index.html"]) {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	waitState(t, strings.TrimSuffix(url, "/"), "ready", hasState(datasetapi.Ready))
	if resp, body := get(t, "GET", url+"dataset/train.bin"); resp.StatusCode != 200 || !bytes.Equal(body, train) {
		t.Fatalf("train.bin: %s", resp.Status)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, errInterrupted) {
			t.Fatalf("serve returned %v, want errInterrupted", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "dataset: ready: 30 training and 12 test images") {
		t.Fatalf("stderr %q", stderr.String())
	}
}

func TestServeFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "-addr", "8080"}, 2, "want HOST:PORT"},
		{[]string{"serve", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"serve", "-site", filepath.Join(t.TempDir(), "none")}, 1, "make site"},
	} {
		code, _, errs := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}
