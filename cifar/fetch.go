//go:build !js

// The download of the official archive, with net/http. The browser build
// (GOOS=js) leaves it out: the page gets its data from cifarlab serve or a
// file the user gives, through the browser's fetch, and net/http with its
// TLS would add about 0.4 MB to the gzip-compressed wasm.

package cifar

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Remote is a file to download once and keep in a cache folder, with the
// size and hashes it must have.
type Remote struct {
	URL    string
	Name   string // file name in the cache folder
	Size   int64
	MD5    string       // lower-case hex
	SHA256 string       // lower-case hex
	Client *http.Client // nil means http.DefaultClient
	// OnProgress, when not nil, is told of a download as it goes: with done
	// 0 before the request is sent, then after every chunk received, with
	// the bytes so far and Size. A cached copy that is used calls it never.
	OnProgress func(done, total int64)
}

// Official is the official CIFAR-10 binary archive.
var Official = Remote{
	URL:    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
	Name:   "cifar-10-binary.tar.gz",
	Size:   170052171,
	MD5:    "c32a1d4ab5d03f1284b67883e8d87530",
	SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
}

// CacheDir is where downloads are kept: $CIFARLAB_CACHE if set, else
// cifarlab in the user's cache folder.
func CacheDir() (string, error) {
	if dir := os.Getenv("CIFARLAB_CACHE"); dir != "" {
		return dir, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cifar: no cache folder (set CIFARLAB_CACHE): %w", err)
	}
	return filepath.Join(dir, "cifarlab"), nil
}

// Fetch returns the path of the official archive in cacheDir, downloading
// it first if needed (see Remote.Fetch).
func Fetch(ctx context.Context, cacheDir string, progress io.Writer) (string, error) {
	return Official.Fetch(ctx, cacheDir, progress)
}

// Fetch returns the path of the file in cacheDir. A cached copy is used
// without the network: its size is checked every time, and its SHA-256 the
// first time it is used (a stamp file beside it records the check, keyed by
// size and modification time, so a file copied in by hand is verified once).
// A cached copy that fails a check is downloaded again. A download goes to a
// temporary file in cacheDir, drawing a progress bar on progress (which may
// be nil), and is renamed into place only once its size, SHA-256 and MD5
// match; otherwise it is deleted.
func (r Remote) Fetch(ctx context.Context, cacheDir string, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	path := filepath.Join(cacheDir, r.Name)
	ok, err := r.cached(path)
	if ok {
		return path, nil
	}
	if err != nil {
		fmt.Fprintf(progress, "cached %s is unusable (%v); downloading it again\n", path, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("cifar: cache folder: %w", err)
	}
	if err := r.download(ctx, path, progress); err != nil {
		return "", err
	}
	if err := r.stamp(path); err != nil {
		return "", err
	}
	return path, nil
}

// cached reports whether path holds a verified copy. A missing file is not
// an error; a wrong one is.
func (r Remote) cached(path string) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fi.Size() != r.Size {
		return false, fmt.Errorf("%d bytes, want %d", fi.Size(), r.Size)
	}
	if r.stamped(path, fi) {
		return true, nil
	}
	if err := r.verifyFile(path); err != nil {
		return false, err
	}
	if err := r.stamp(path); err != nil {
		return false, err
	}
	return true, nil
}

// stampPath is the file recording that path was verified.
func stampPath(path string) string { return path + ".verified" }

// stampText is what the stamp holds for a verified file.
func (r Remote) stampText(fi os.FileInfo) string {
	return fmt.Sprintf("sha256 %s\nsize %d\nmtime %d\n", r.SHA256, fi.Size(), fi.ModTime().UnixNano())
}

// stamped reports whether the stamp matches the file as it is now.
func (r Remote) stamped(path string, fi os.FileInfo) bool {
	data, err := os.ReadFile(stampPath(path))
	return err == nil && string(data) == r.stampText(fi)
}

// stamp records that path was verified.
func (r Remote) stamp(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	if err := os.WriteFile(stampPath(path), []byte(r.stampText(fi)), 0o644); err != nil {
		return fmt.Errorf("cifar: record verification: %w", err)
	}
	return nil
}

// verifyFile checks the SHA-256 of a cached file.
func (r Remote) verifyFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != r.SHA256 {
		return fmt.Errorf("SHA-256 %s, want %s", got, r.SHA256)
	}
	return nil
}

// download writes the file to a temporary file beside path and renames it
// into place once verified.
func (r Remote) download(ctx context.Context, path string, progress io.Writer) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), r.Name+".*.part")
	if err != nil {
		return fmt.Errorf("cifar: download %s: %w", r.Name, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sums, err := r.get(ctx, tmp, progress)
	if err != nil {
		return err
	}
	if err := r.checkSums(sums); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cifar: download %s: %w", r.Name, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cifar: download %s: %w", r.Name, err)
	}
	return nil
}

// digests are the hashes of the bytes downloaded.
type digests struct {
	size        int64
	sha256, md5 hash.Hash
}

// get downloads the file into w, hashing it and drawing progress.
func (r Remote) get(ctx context.Context, w io.Writer, progress io.Writer) (*digests, error) {
	report := &progressFunc{total: r.Size, f: r.OnProgress}
	report.Write(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return nil, r.failed(err)
	}
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, r.failed(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, r.failed(fmt.Errorf("the server answered %s", resp.Status))
	}
	if resp.ContentLength >= 0 && resp.ContentLength != r.Size {
		return nil, r.failed(fmt.Errorf("the server announced %d bytes, want %d", resp.ContentLength, r.Size))
	}
	sums := &digests{sha256: sha256.New(), md5: md5.New()}
	bar := newProgressBar(progress, r.Name, r.Size)
	dst := io.MultiWriter(w, sums.sha256, sums.md5, bar, report)
	// Read one byte more than expected, to notice a longer file.
	n, err := io.Copy(dst, io.LimitReader(resp.Body, r.Size+1))
	bar.finish()
	sums.size = n
	if err != nil {
		return nil, r.failed(err)
	}
	return sums, nil
}

// checkSums compares the download with the expected size and hashes.
func (r Remote) checkSums(d *digests) error {
	if d.size != r.Size {
		return fmt.Errorf("cifar: download %s: got %d bytes, want %d (connection cut?); nothing was kept", r.URL, d.size, r.Size)
	}
	var bad []string
	if got := hex.EncodeToString(d.sha256.Sum(nil)); got != r.SHA256 {
		bad = append(bad, "SHA-256 "+got+", want "+r.SHA256)
	}
	if got := hex.EncodeToString(d.md5.Sum(nil)); r.MD5 != "" && got != r.MD5 {
		bad = append(bad, "MD5 "+got+", want "+r.MD5)
	}
	if len(bad) > 0 {
		return fmt.Errorf("cifar: download %s: checksum mismatch: %s; the file was deleted", r.URL, strings.Join(bad, "; "))
	}
	return nil
}

// failed explains a failed download and how to go on without the network.
func (r Remote) failed(err error) error {
	return fmt.Errorf("cifar: download %s failed: %w. If this machine is offline, get the data another way and pass -data PATH: %s", r.URL, err, Formats)
}

// progressFunc passes the bytes written so far to f (if not nil).
type progressFunc struct {
	done, total int64
	f           func(done, total int64)
}

func (p *progressFunc) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.f != nil {
		p.f(p.done, p.total)
	}
	return len(b), nil
}

// progressBar draws a download's progress on one line, redrawn with \r at
// most every redrawEvery.
type progressBar struct {
	w     io.Writer
	name  string
	total int64
	done  int64
	start time.Time
	last  time.Time
}

const redrawEvery = 250 * time.Millisecond

func newProgressBar(w io.Writer, name string, total int64) *progressBar {
	now := time.Now()
	return &progressBar{w: w, name: name, total: total, start: now, last: now}
}

// Write counts bytes and redraws when due.
func (p *progressBar) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if now := time.Now(); now.Sub(p.last) >= redrawEvery {
		p.last = now
		p.draw(now)
	}
	return len(b), nil
}

// finish draws the final state and ends the line.
func (p *progressBar) finish() {
	p.draw(time.Now())
	fmt.Fprintln(p.w)
}

func (p *progressBar) draw(now time.Time) {
	fmt.Fprint(p.w, "\r"+p.line(now.Sub(p.start)))
}

// line is e.g. "cifar-10-binary.tar.gz [=====>    ]  45.2/170.1 MB  26.6%  12.3 MB/s  ETA 10s".
func (p *progressBar) line(elapsed time.Duration) string {
	const width = 24
	frac := 0.0
	if p.total > 0 {
		frac = min(float64(p.done)/float64(p.total), 1)
	}
	filled := int(frac * width)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(p.done) / s
	}
	eta := "?"
	if rate > 0 && p.total >= p.done {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%s [%s] %6.1f/%.1f MB %5.1f%% %6.2f MB/s ETA %-8s",
		p.name, bar, mb(p.done), mb(p.total), 100*frac, rate/1e6, eta)
}

func mb(n int64) float64 { return float64(n) / 1e6 }
