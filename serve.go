package main

// cifarlab serve: the web app's files from the site folder, and CIFAR-10 for
// the page.
//
// Paths. Only GET and HEAD are answered (anything else: 405). A request
// path is served only when every segment matches [A-Za-z0-9_-][A-Za-z0-9._-]*
// and nothing in it is percent-encoded: "..", dotfiles, empty segments
// ("//", so no absolute paths), backslashes and every encoded form (%2e%2e,
// %2f, %252e…) are refused with 404 before the file system is asked. Files
// are opened through an os.Root on the site folder, so a symbolic link that
// leads outside it is refused too; only regular files are served, a path
// ending in "/" means its index.html, and there are no listings. /dataset/…
// is the dataset endpoint below, never a file.
//
// Site files: the content type comes from the extension (.wasm
// application/wasm, .js text/javascript, .html, .css, .json, .png, …;
// application/octet-stream otherwise). Each file is read once into memory
// (again when its size or modification time changes), with its SHA-256,
// its gzip encoding for compressible types, and the precompressed sidecars
// NAME.zst (zstd) and NAME.br (brotli) when they are not older than NAME
// (make site writes cifarlab.wasm.zst when zstd is installed: gzip leaves
// a Go wasm module about a third larger than zstd -19 does). The smallest
// encoding the request's Accept-Encoding allows is sent (Chromium offers
// gzip, br and zstd on http://127.0.0.1), else the file as it is. Every
// response carries Cache-Control: no-cache, a strong ETag (the hex SHA-256
// of the file, with "-gzip", "-zstd" or "-br" appended for an encoding),
// Vary: Accept-Encoding and Content-Length; a matching If-None-Match gets
// 304, so a reload revalidates without a transfer and a rebuilt
// cifarlab.wasm is picked up at once. index.html, cifarlab.wasm and
// wasm_exec.js are read and compressed at startup.
//
// The dataset endpoint, which the page's program uses:
//
//	GET /dataset/status
//	  200, application/json, Cache-Control: no-store; every field always present:
//	  {"state":    "preparing" | "downloading" | "ready" | "error",
//	   "source":   the -data path, the cached archive, or the URL while downloading,
//	   "classes":  class names in label order ([] until ready),
//	   "train":    training records (0 until ready),
//	   "test":     test records (0 until ready, or when the data has no test split),
//	   "progress": {"done": bytes, "total": bytes} of the download (0 and 0 when none),
//	   "error":    the message when state is "error", else "",
//	   "etag":     an opaque content hash of the classes and both files ("" until ready)}
//	  The state goes preparing → [downloading → preparing →] ready, or to error,
//	  which is final (restart the server to try again).
//
//	GET /dataset/train.bin, GET /dataset/test.bin (HEAD too)
//	  ready: 200, application/octet-stream, the records in the CIFAR binary
//	  layout (3,073 bytes each: the label byte, then 1,024 red, 1,024 green and
//	  1,024 blue bytes, row-major); a single .bin given as -data is train.bin.
//	  ETag: "<hex SHA-256 of the records>" ("…-gzip" for the gzip encoding);
//	  Cache-Control: no-cache; If-None-Match → 304; Vary: Accept-Encoding;
//	  Content-Length (of the bytes sent); Content-Encoding: gzip when the
//	  request accepts it and the compressed copy, made in the background once
//	  the data is ready, exists (until then, and when it would not be smaller,
//	  the records are sent as they are).
//	  not ready: 503, Retry-After: 1, application/json {"state": …, "error": …}.
//	  test.bin of data without a test split: 404, application/json, same fields.

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	stdnet "net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"cifarlab/cifar"
	"cifarlab/internal/datasetapi"
)

type serveFlags struct {
	addr, data, site string
}

func parseServeFlags(args []string, stderr io.Writer) (*serveFlags, error) {
	fs := newFlagSet("serve", stderr)
	f := &serveFlags{}
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "`HOST:PORT` to listen on; keep it on loopback: WebGPU needs a secure context, which plain http is only on localhost")
	fs.StringVar(&f.data, "data", "", "dataset `PATH` to offer the page (any format train reads); default: the official archive from the cache, downloaded once")
	fs.StringVar(&f.site, "site", "", "the site `DIR` to serve; default: site/ in the working directory, else beside the executable or in its parent folder")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, flagError(fs, "unexpected argument %q", fs.Arg(0))
	}
	if _, _, err := stdnet.SplitHostPort(f.addr); err != nil {
		return nil, flagError(fs, "-addr %q: want HOST:PORT, such as 127.0.0.1:8080", f.addr)
	}
	return f, nil
}

func runServe(args []string, stdout, stderr io.Writer) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, f, stdout, stderr)
}

// serve runs the server until ctx is cancelled (Ctrl-C), then shuts it down
// and returns errInterrupted.
func serve(ctx context.Context, f *serveFlags, stdout, stderr io.Writer) error {
	dir, err := findSite(f.site)
	if err != nil {
		return err
	}
	site, err := openSite(dir, stderr)
	if err != nil {
		return err
	}
	defer site.close()
	ln, err := stdnet.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("%w (pass -addr 127.0.0.1:PORT for another port)", err)
	}
	url, loopback := siteURL(ln.Addr())
	if !loopback {
		fmt.Fprintf(stderr, "warning: -addr %s accepts connections from other machines, where the page is plain http and not a secure context, so it gets no WebGPU there\n", f.addr)
	}
	site.warm()
	data := newDataset(f.data, stderr)
	dataCtx, cancelData := context.WithCancel(context.Background())
	prepared := data.start(dataCtx)
	srv := &http.Server{Handler: &server{site: site, data: data}, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "serving %s on %s\n", dir, url)
	select {
	case err = <-served:
	case <-ctx.Done():
		fmt.Fprintln(stderr, "shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if srv.Shutdown(shutdownCtx) != nil {
			srv.Close()
		}
		cancel()
		err = errInterrupted
	}
	// A download stops at once and deletes its partial file; reading a
	// dataset cannot be interrupted and is not worth waiting for long.
	cancelData()
	select {
	case <-prepared:
	case <-time.After(2 * time.Second):
	}
	return err
}

// findSite is -site, else the first folder called site in the working
// directory, beside the executable, or in the executable's parent folder
// (bin/cifarlab in a checkout).
func findSite(flagDir string) (string, error) {
	hint := "build it with make site, or pass -site DIR"
	if flagDir != "" {
		if fi, err := os.Stat(flagDir); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("-site %s is not a folder; %s", flagDir, hint)
		}
		return flagDir, nil
	}
	candidates := []string{"site"}
	if exe, err := os.Executable(); err == nil {
		if exe, err := filepath.EvalSymlinks(exe); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), "site"), filepath.Join(filepath.Dir(exe), "..", "site"))
		}
	}
	for _, dir := range candidates {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no site folder (looked for %s); %s", strings.Join(candidates, ", "), hint)
}

// siteURL is the address to open in a browser, with 127.0.0.1 for a
// listener on every interface, and whether the listener is loopback only.
func siteURL(addr stdnet.Addr) (url string, loopback bool) {
	ta, ok := addr.(*stdnet.TCPAddr)
	if !ok {
		return "http://" + addr.String() + "/", false
	}
	host := ta.IP.String()
	if ta.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + stdnet.JoinHostPort(host, strconv.Itoa(ta.Port)) + "/", ta.IP.IsLoopback()
}

// server routes requests to the dataset endpoint and the site files.
type server struct {
	site *site
	data *dataset
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := cleanPath(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if rest, ok := strings.CutPrefix(name, "dataset/"); ok {
		s.data.serve(w, r, rest)
		return
	}
	s.site.serve(w, r, name)
}

// segment is what each part of a served path must look like: no dotfiles
// (so no "." or ".."), no separators, no escapes.
var segment = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// cleanPath turns the request path into a slash-separated name relative to
// the site ("index.html" for "/" and for paths ending in "/"), or reports
// that it is not one to serve. Nothing percent-encoded is accepted, so what
// is checked is what the client sent.
func cleanPath(r *http.Request) (string, bool) {
	p := r.URL.Path
	if r.URL.EscapedPath() != p || !strings.HasPrefix(p, "/") {
		return "", false
	}
	name := p[1:]
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	for _, seg := range strings.Split(name, "/") {
		if !segment.MatchString(seg) {
			return "", false
		}
	}
	return name, true
}

// body is one file as served: its bytes, their hash, and the encodings
// that are smaller (gzip, and zstd or br from sidecar files). A body is
// never changed once made.
type body struct {
	typ       string
	raw       []byte
	hash      string     // hex SHA-256 of raw
	encodings []encoding // each smaller than raw
}

// encoding is a body's bytes in one content coding.
type encoding struct {
	coding string // "gzip", "zstd" or "br"
	data   []byte
}

func newBody(typ string, raw []byte) *body {
	sum := sha256.Sum256(raw)
	return &body{typ: typ, raw: raw, hash: hex.EncodeToString(sum[:])}
}

// with is b with data added as its encoding in coding, or b itself when
// data is nil or not smaller than the raw bytes.
func (b *body) with(coding string, data []byte) *body {
	if data == nil || len(data) >= len(b.raw) {
		return b
	}
	c := *b
	c.encodings = append(slices.Clip(b.encodings), encoding{coding, data})
	return &c
}

// etag is the strong ETag of the body in coding ("" for the raw bytes).
func (b *body) etag(coding string) string {
	if coding == "" {
		return `"` + b.hash + `"`
	}
	return `"` + b.hash + "-" + coding + `"`
}

// choose picks the smallest encoding that Accept-Encoding values allow,
// else the raw bytes (coding "").
func (b *body) choose(accept []string) (data []byte, coding string) {
	data = b.raw
	for _, e := range b.encodings {
		if len(e.data) < len(data) && accepts(accept, e.coding) {
			data, coding = e.data, e.coding
		}
	}
	return data, coding
}

// gzipBytes compresses raw, returning nil if that would not save at least
// 1/32 of it or if ctx ends first.
func gzipBytes(ctx context.Context, raw []byte, level int) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		panic(err) // a programmer's error: an invalid level
	}
	const chunk = 1 << 20
	for off := 0; off < len(raw); off += chunk {
		if ctx.Err() != nil {
			return nil
		}
		zw.Write(raw[off:min(off+chunk, len(raw))]) // a bytes.Buffer does not fail
	}
	zw.Close()
	if buf.Len() >= len(raw)-len(raw)/32 {
		return nil
	}
	return buf.Bytes()
}

// send writes b in the smallest encoding the request accepts, or 304 when
// the request's If-None-Match names what would be sent.
func (b *body) send(w http.ResponseWriter, r *http.Request) {
	data, coding := b.choose(r.Header.Values("Accept-Encoding"))
	etag := b.etag(coding)
	h := w.Header()
	h.Set("Content-Type", b.typ)
	h.Set("Cache-Control", "no-cache")
	h.Add("Vary", "Accept-Encoding")
	if coding != "" {
		h.Set("Content-Encoding", coding)
	}
	h.Set("ETag", etag)
	if etagListed(strings.Join(r.Header.Values("If-None-Match"), ","), etag) {
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// accepts reports whether Accept-Encoding values allow coding (gzip also
// spelled x-gzip): named with a q-value above 0, or else * is.
func accepts(values []string, coding string) bool {
	named, star := -1.0, -1.0
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			c, params, _ := strings.Cut(part, ";")
			c = strings.ToLower(strings.TrimSpace(c))
			if c == "x-gzip" {
				c = "gzip"
			}
			switch c {
			case coding:
				named = max(named, qValue(params))
			case "*":
				star = max(star, qValue(params))
			}
		}
	}
	if named >= 0 {
		return named > 0
	}
	return star > 0
}

// qValue is the q parameter of one Accept-Encoding element (1 when absent,
// 0 when malformed).
func qValue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 {
			return 0
		}
		return q
	}
	return 1
}

// etagListed reports whether an If-None-Match list names etag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is "*".
func etagListed(list, etag string) bool {
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// Site files.

// maxSiteFile is the largest site file served (each is held in memory).
const maxSiteFile = 512 << 20

// site serves the files of one folder, caching each with its hash and gzip
// encoding until its size or modification time changes.
type site struct {
	dir  string
	root *os.Root
	log  io.Writer

	mu    sync.Mutex
	files map[string]*siteFile
}

// sidecars are the precompressed copies a site file may have beside it
// (make site writes cifarlab.wasm.zst when zstd is installed). One is used
// while it is not older than the file and smaller than the other encodings.
var sidecars = [...]struct{ ext, coding string }{{".zst", "zstd"}, {".br", "br"}}

// fileKeys are the size and modification time of a file and of each of its
// sidecars (zero when absent): what a cached body is valid for.
type fileKeys [1 + len(sidecars)]struct {
	size int64
	mod  time.Time
}

// siteFile is the cache slot of one name; mu is held while it is (re)read.
type siteFile struct {
	mu   sync.Mutex
	keys fileKeys
	body *body
}

func openSite(dir string, log io.Writer) (*site, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("site folder: %w", err)
	}
	return &site{dir: dir, root: root, log: log, files: map[string]*siteFile{}}, nil
}

func (s *site) close() { s.root.Close() }

// warm reads and compresses the page's first files in the background, and
// notes the missing ones.
func (s *site) warm() {
	for _, name := range []string{"index.html", "wasm_exec.js", "cifarlab.wasm"} {
		if _, err := s.root.Stat(name); err != nil {
			fmt.Fprintf(s.log, "note: %s has no %s yet (make site builds cifarlab.wasm and copies wasm_exec.js)\n", s.dir, name)
			continue
		}
		go s.get(name)
	}
}

func (s *site) serve(w http.ResponseWriter, r *http.Request, name string) {
	b, err := s.get(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNotRegular) {
			fmt.Fprintf(s.log, "site: %v\n", err) // such as a link out of the folder
		}
		http.NotFound(w, r)
		return
	}
	b.send(w, r)
}

// errNotRegular is returned for a name that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// get returns the body of the regular file name, from the cache while the
// file and its sidecars are unchanged in size and modification time.
func (s *site) get(name string) (*body, error) {
	keys, err := s.stat(name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	f := s.files[name]
	if f == nil {
		f = &siteFile{}
		s.files[name] = f
	}
	s.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.body != nil && f.keys == keys {
		return f.body, nil
	}
	raw, fi, err := s.read(name)
	if err != nil {
		return nil, err
	}
	typ, compress := contentType(name)
	b := newBody(typ, raw)
	if compress {
		b = b.with("gzip", gzipBytes(context.Background(), raw, gzip.DefaultCompression))
	}
	for i, sc := range sidecars {
		// A sidecar is stale when older than the file, within a second:
		// compressors that give their output the input's time (brotli -o,
		// gzip -k) may keep only its seconds.
		if k := keys[1+i]; k.mod.IsZero() || k.mod.Before(fi.ModTime().Truncate(time.Second)) {
			continue // absent, or stale: made from an older file
		}
		if data, _, err := s.read(name + sc.ext); err == nil {
			b = b.with(sc.coding, data)
		}
	}
	keys[0].size, keys[0].mod = fi.Size(), fi.ModTime()
	f.keys, f.body = keys, b
	return b, nil
}

// stat returns the keys of the regular file name and its sidecars.
func (s *site) stat(name string) (fileKeys, error) {
	var keys fileKeys
	fi, err := s.root.Stat(name)
	if err != nil {
		return keys, err
	}
	if !fi.Mode().IsRegular() {
		return keys, fmt.Errorf("%s: %w", name, errNotRegular)
	}
	keys[0].size, keys[0].mod = fi.Size(), fi.ModTime()
	for i, sc := range sidecars {
		if fi, err := s.root.Stat(name + sc.ext); err == nil && fi.Mode().IsRegular() {
			keys[1+i].size, keys[1+i].mod = fi.Size(), fi.ModTime()
		}
	}
	return keys, nil
}

// read reads a regular file of at most maxSiteFile bytes through the root,
// with its metadata from before the read.
func (s *site) read(name string) ([]byte, fs.FileInfo, error) {
	f, err := s.root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !fi.Mode().IsRegular():
		return nil, nil, fmt.Errorf("%s: %w", name, errNotRegular)
	case fi.Size() > maxSiteFile:
		return nil, nil, fmt.Errorf("%s: %d bytes, more than the %d a site file may have", name, fi.Size(), maxSiteFile)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxSiteFile))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	return raw, fi, nil
}

// contentTypes maps extensions to content types and whether gzip helps.
var contentTypes = map[string]struct {
	typ      string
	compress bool
}{
	".html":        {"text/html; charset=utf-8", true},
	".js":          {"text/javascript; charset=utf-8", true},
	".mjs":         {"text/javascript; charset=utf-8", true},
	".css":         {"text/css; charset=utf-8", true},
	".json":        {"application/json", true},
	".map":         {"application/json", true},
	".txt":         {"text/plain; charset=utf-8", true},
	".md":          {"text/markdown; charset=utf-8", true},
	".svg":         {"image/svg+xml", true},
	".wasm":        {"application/wasm", true},
	".bin":         {"application/octet-stream", true},
	".safetensors": {"application/octet-stream", true},
	".ico":         {"image/x-icon", true},
	".png":         {"image/png", false},
	".jpg":         {"image/jpeg", false},
	".jpeg":        {"image/jpeg", false},
	".gif":         {"image/gif", false},
	".webp":        {"image/webp", false},
	".woff2":       {"font/woff2", false},
	".gz":          {"application/gzip", false},
	".zst":         {"application/zstd", false},
	".br":          {"application/octet-stream", false},
}

// contentType is the type of a file from its extension, and whether it is
// worth compressing; unknown extensions are application/octet-stream.
func contentType(name string) (typ string, compress bool) {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t.typ, t.compress
	}
	return "application/octet-stream", true
}

// The dataset.

// dataset prepares the data in the background and serves it.
type dataset struct {
	path     string                               // -data, or "" for the cache
	remote   cifar.Remote                         // what to download without -data
	cacheDir func() (string, error)               // where downloads are kept
	open     func(string) (*cifar.Dataset, error) // reads a dataset
	log      io.Writer

	mu          sync.Mutex
	status      datasetapi.Status
	train, test *body // set when ready; test stays nil without a test split

	compressed chan struct{} // closed once the gzip encodings are made (or given up)
}

func newDataset(path string, log io.Writer) *dataset {
	d := &dataset{path: path, remote: cifar.Official, cacheDir: cifar.CacheDir, open: cifar.Open, log: log,
		compressed: make(chan struct{})}
	d.status.State = datasetapi.Preparing
	d.status.Classes = []string{}
	return d
}

// start prepares the data in the background until ready, failed or ctx
// ends; the channel is closed when it has stopped (a partial download is
// deleted by then).
func (d *dataset) start(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(d.compressed)
		if err := d.prepare(ctx); err != nil {
			d.update(func(s *datasetapi.Status) { s.State, s.Error = datasetapi.Error, err.Error() })
			if ctx.Err() == nil { // not merely stopped by a shutdown
				fmt.Fprintf(d.log, "dataset: %v\n", err)
			}
			return
		}
		d.compress(ctx)
	}()
	return done
}

func (d *dataset) update(f func(*datasetapi.Status)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(&d.status)
}

// prepare finds, reads and hashes the data, and makes it ready.
func (d *dataset) prepare(ctx context.Context) error {
	path, err := d.locate(ctx)
	if err != nil {
		return err
	}
	d.update(func(s *datasetapi.Status) { s.State, s.Source = datasetapi.Preparing, path })
	fmt.Fprintf(d.log, "dataset: reading %s\n", path)
	ds, err := d.open(path)
	if err != nil {
		return err
	}
	trainSplit := ds.Train
	if trainSplit == nil {
		trainSplit = ds.Only
	}
	if trainSplit == nil {
		return fmt.Errorf("%s has no training images (no data_batch_N.bin or train/ folder)", ds.Source)
	}
	const typ = "application/octet-stream"
	train := newBody(typ, trainSplit.Records)
	var test *body
	if ds.Test != nil {
		test = newBody(typ, ds.Test.Records)
	}
	etag := datasetETag(ds.Classes, train, test)
	d.mu.Lock()
	d.train, d.test = train, test
	s := &d.status
	s.State, s.Classes, s.Train, s.Test, s.ETag = datasetapi.Ready, ds.Classes, trainSplit.Len(), splitLen(ds.Test), etag
	d.mu.Unlock()
	fmt.Fprintf(d.log, "dataset: ready: %d training and %d test images of %d classes\n", trainSplit.Len(), splitLen(ds.Test), len(ds.Classes))
	return nil
}

// locate is -data, or the official archive from the cache, downloaded
// first if needed with its progress in the status.
func (d *dataset) locate(ctx context.Context) (string, error) {
	if d.path != "" {
		return d.path, nil
	}
	dir, err := d.cacheDir()
	if err != nil {
		return "", err
	}
	r := d.remote
	d.update(func(s *datasetapi.Status) { s.Source = filepath.Join(dir, r.Name) })
	r.OnProgress = func(done, total int64) {
		d.update(func(s *datasetapi.Status) {
			s.State, s.Source, s.Progress.Done, s.Progress.Total = datasetapi.Downloading, r.URL, done, total
		})
	}
	return r.Fetch(ctx, dir, d.log)
}

// datasetETag is the hex SHA-256 of the class names and the files' hashes.
func datasetETag(classes []string, train, test *body) string {
	h := sha256.New()
	for _, c := range classes {
		fmt.Fprintf(h, "%q\n", c)
	}
	fmt.Fprintf(h, "train %s\n", train.hash)
	if test != nil {
		fmt.Fprintf(h, "test %s\n", test.hash)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// compress adds the gzip encoding of each file, one after the other,
// replacing each body once its encoding is made.
func (d *dataset) compress(ctx context.Context) {
	for _, slot := range []**body{&d.train, &d.test} {
		d.mu.Lock()
		b := *slot
		d.mu.Unlock()
		if b == nil || ctx.Err() != nil {
			continue
		}
		c := b.with("gzip", gzipBytes(ctx, b.raw, gzip.DefaultCompression))
		d.mu.Lock()
		*slot = c
		d.mu.Unlock()
	}
}

// serve answers /dataset/NAME.
func (d *dataset) serve(w http.ResponseWriter, r *http.Request, name string) {
	d.mu.Lock()
	status := d.status
	files := map[string]*body{"train.bin": d.train, "test.bin": d.test}
	d.mu.Unlock()
	if name == "status" {
		writeJSON(w, http.StatusOK, status)
		return
	}
	b, ok := files[name]
	switch {
	case !ok:
		http.NotFound(w, r)
	case status.State != datasetapi.Ready:
		msg := status.Error
		if msg == "" {
			msg = "the dataset is not ready yet (" + status.State + "); poll /dataset/status"
		}
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"state": status.State, "error": msg})
	case b == nil:
		writeJSON(w, http.StatusNotFound, map[string]string{"state": status.State, "error": status.Source + " has no test split"})
	default:
		b.send(w, r)
	}
}

// writeJSON sends v as an uncacheable JSON response.
func writeJSON(w http.ResponseWriter, code int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
