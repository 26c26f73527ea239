//go:build !js

package cifar

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testRemote serves body from an httptest server and returns a Remote
// describing it, and a counter of requests.
func testRemote(t *testing.T, body []byte) (Remote, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return describe(srv.URL+"/data.tar.gz", body), &hits
}

// describe is a Remote for body at url.
func describe(url string, body []byte) Remote {
	s := sha256.Sum256(body)
	m := md5.Sum(body)
	return Remote{URL: url, Name: "data.tar.gz", Size: int64(len(body)),
		SHA256: hex.EncodeToString(s[:]), MD5: hex.EncodeToString(m[:])}
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestFetchDownloads(t *testing.T) {
	body := fakeOfficial(t, true)
	remote, hits := testRemote(t, body)
	dir := filepath.Join(t.TempDir(), "cache")
	var progress strings.Builder
	path, err := remote.Fetch(context.Background(), dir, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "data.tar.gz") {
		t.Fatalf("path %q", path)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != string(body) {
		t.Fatalf("cached file differs from the download (%v)", err)
	}
	out := progress.String()
	for _, want := range []string{"\r", "data.tar.gz", "100.0%", "MB/s", "ETA", "\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("progress %q lacks %q", out, want)
		}
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Fatalf("cache holds %q, want the file and its stamp", names)
	}
	// The downloaded archive opens.
	if ds, err := Open(path); err != nil || ds.Train.Len() != 20 {
		t.Fatalf("open the download: %v", err)
	}
	// Cached: no second request.
	if _, err := remote.Fetch(context.Background(), dir, nil); err != nil || hits.Load() != 1 {
		t.Fatalf("second fetch: %v, %d requests", err, hits.Load())
	}
}

// OnProgress sees the download from 0 to Size, never going back, and is
// not called when the cached copy is used.
func TestFetchReportsProgress(t *testing.T) {
	body := []byte(strings.Repeat("0123456789abcdef", 20000)) // several reads
	remote, _ := testRemote(t, body)
	var calls [][2]int64
	remote.OnProgress = func(done, total int64) { calls = append(calls, [2]int64{done, total}) }
	dir := t.TempDir()
	if _, err := remote.Fetch(context.Background(), dir, nil); err != nil {
		t.Fatal(err)
	}
	size := int64(len(body))
	if len(calls) < 3 || calls[0] != [2]int64{0, size} || calls[len(calls)-1] != [2]int64{size, size} {
		t.Fatalf("progress calls %v, want (0,%d) … (%d,%d)", calls, size, size, size)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] || calls[i][1] != size {
			t.Fatalf("call %d: %v after %v", i, calls[i], calls[i-1])
		}
	}
	calls = nil
	if _, err := remote.Fetch(context.Background(), dir, nil); err != nil || len(calls) != 0 {
		t.Fatalf("cached fetch: %v, progress calls %v", err, calls)
	}
}

func TestFetchCachedWithoutNetwork(t *testing.T) {
	body := []byte("pretend archive")
	dir := t.TempDir()
	// Copied in by hand: verified once from its SHA-256, then stamped.
	writeFile(t, dir, "data.tar.gz", body)
	remote := describe("http://127.0.0.1:1/unreachable", body)
	for range 2 {
		path, err := remote.Fetch(context.Background(), dir, nil)
		if err != nil || path != filepath.Join(dir, "data.tar.gz") {
			t.Fatalf("got %q, %v", path, err)
		}
	}
	if _, err := os.Stat(stampPath(filepath.Join(dir, "data.tar.gz"))); err != nil {
		t.Fatalf("no stamp after verification: %v", err)
	}
}

func TestFetchReplacesBadCache(t *testing.T) {
	body := []byte("the right content")
	remote, hits := testRemote(t, body)
	for _, bad := range []string{"short", "the wrong content"} { // wrong size, then wrong hash
		dir := t.TempDir()
		writeFile(t, dir, "data.tar.gz", []byte(bad))
		var progress strings.Builder
		path, err := remote.Fetch(context.Background(), dir, &progress)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != string(body) || !strings.Contains(progress.String(), "downloading it again") {
			t.Fatalf("cache %q not replaced; progress %q", got, progress.String())
		}
	}
	if hits.Load() != 2 {
		t.Fatalf("%d requests, want 2", hits.Load())
	}
}

func TestFetchChecksumMismatch(t *testing.T) {
	remote, _ := testRemote(t, []byte("tampered content!"))
	want := remote.SHA256
	remote.SHA256 = strings.Repeat("ab", 32)
	dir := t.TempDir()
	_, err := remote.Fetch(context.Background(), dir, nil)
	wantErr(t, err, "checksum mismatch", "SHA-256 "+want, "want "+remote.SHA256, "deleted")
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("left behind %q", names)
	}

	remote, _ = testRemote(t, []byte("tampered content!"))
	remote.MD5 = strings.Repeat("0", 32)
	_, err = remote.Fetch(context.Background(), dir, nil)
	wantErr(t, err, "checksum mismatch", "MD5")
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("left behind %q", names)
	}
}

func TestFetchWrongSize(t *testing.T) {
	remote, _ := testRemote(t, []byte("0123456789"))
	remote.Size = 5 // the server announces 10
	dir := t.TempDir()
	_, err := remote.Fetch(context.Background(), dir, nil)
	wantErr(t, err, "announced 10 bytes, want 5", "-data PATH")
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("left behind %q", names)
	}
}

func TestFetchServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer srv.Close()
	remote := describe(srv.URL+"/x", []byte("x"))
	dir := t.TempDir()
	_, err := remote.Fetch(context.Background(), dir, nil)
	wantErr(t, err, "download "+srv.URL+"/x failed", "500 Internal Server Error", "-data PATH", "cifar-10-binary.tar.gz")
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("left behind %q", names)
	}
}

func TestFetchOffline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/data.tar.gz"
	srv.Close() // nothing listens there now: connection refused
	remote := describe(url, []byte("x"))
	_, err := remote.Fetch(context.Background(), t.TempDir(), nil)
	wantErr(t, err, "failed", "offline", "-data PATH", "cifar-10-batches-bin")
}

func TestFetchCancelled(t *testing.T) {
	remote, _ := testRemote(t, []byte("x"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := remote.Fetch(ctx, t.TempDir(), nil)
	wantErr(t, err, "context canceled")
}

func TestCacheDir(t *testing.T) {
	t.Setenv("CIFARLAB_CACHE", "/some/where")
	if dir, err := CacheDir(); err != nil || dir != "/some/where" {
		t.Fatalf("got %q, %v", dir, err)
	}
	if runtime.GOOS != "linux" {
		return
	}
	t.Setenv("CIFARLAB_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if dir, err := CacheDir(); err != nil || dir != filepath.Join("/xdg", "cifarlab") {
		t.Fatalf("got %q, %v", dir, err)
	}
}

func TestOfficialRemote(t *testing.T) {
	if Official.Size != 170052171 || Official.Name != "cifar-10-binary.tar.gz" ||
		!strings.HasSuffix(Official.URL, "/~kriz/cifar-10-binary.tar.gz") || len(Official.SHA256) != 64 || len(Official.MD5) != 32 {
		t.Fatalf("Official = %+v", Official)
	}
}

func TestProgressLine(t *testing.T) {
	p := newProgressBar(nil, "f", 100e6)
	p.done = 25e6
	line := p.line(5e9) // 25 MB in 5 s
	for _, want := range []string{"25.0/100.0 MB", "25.0%", "5.00 MB/s", "ETA 15s", "[======>"} {
		if !strings.Contains(line, want) {
			t.Fatalf("line %q lacks %q", line, want)
		}
	}
}

// The bar is redrawn at most every redrawEvery, however often bytes come.
func TestProgressThrottled(t *testing.T) {
	var out strings.Builder
	start := time.Now()
	p := newProgressBar(&out, "f", 1e6)
	for range 100000 {
		p.Write(make([]byte, 10))
	}
	p.finish()
	maxDraws := 1 + int(time.Since(start)/redrawEvery) + 1
	if n := strings.Count(out.String(), "\r"); n > maxDraws {
		t.Fatalf("%d redraws in %v, want at most %d", n, time.Since(start), maxDraws)
	}
	if !strings.HasSuffix(out.String(), "\n") || !strings.Contains(out.String(), "100.0%") {
		t.Fatalf("final line %q", out.String())
	}
}
