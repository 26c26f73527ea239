// Package sitefiles serves the files of the site folder for cifarlab
// serve: request paths checked before the file system is asked (no "..",
// dotfiles, escapes, empty segments or links out of the folder), each file
// read once into memory with its gzip encoding and precompressed sidecars,
// and read again when it changes.
package sitefiles

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"cifarlab/internal/httpbody"
)

// segment is what each part of a served path must look like: no dotfiles
// (so no "." or ".."), no separators, no escapes, and no Go source (the
// site folder has site.go, which gives Go programs one of its files).
var segment = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// CleanPath turns the request path into a slash-separated name relative to
// the site ("index.html" for "/" and for paths ending in "/"), or reports
// that it is not one to serve. Nothing percent-encoded is accepted, so what
// is checked is what the client sent.
func CleanPath(r *http.Request) (string, bool) {
	p := r.URL.Path
	if r.URL.EscapedPath() != p || !strings.HasPrefix(p, "/") {
		return "", false
	}
	name := p[1:]
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	for _, seg := range strings.Split(name, "/") {
		if !segment.MatchString(seg) || strings.HasSuffix(seg, ".go") {
			return "", false
		}
	}
	return name, true
}

// maxSiteFile is the largest site file served (each is held in memory).
const maxSiteFile = 512 << 20

// Site serves the files of one folder, caching each with its hash and gzip
// encoding until its size or modification time changes.
type Site struct {
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
	body *httpbody.Body
}

// Open serves the folder dir; failures to read a file go to log.
func Open(dir string, log io.Writer) (*Site, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("site folder: %w", err)
	}
	return &Site{dir: dir, root: root, log: log, files: map[string]*siteFile{}}, nil
}

// Close closes the folder.
func (s *Site) Close() { s.root.Close() }

// Warm reads and compresses the page's first files in the background, and
// notes the missing ones.
func (s *Site) Warm() {
	for _, name := range []string{"index.html", "wasm_exec.js", "cifarlab.wasm", "cifarlab-worker.wasm"} {
		if _, err := s.root.Stat(name); err != nil {
			fmt.Fprintf(s.log, "note: %s has no %s yet (make site builds cifarlab.wasm and cifarlab-worker.wasm, and copies wasm_exec.js)\n", s.dir, name)
			continue
		}
		go s.Get(name)
	}
}

// Serve sends the file name (a path from CleanPath), or 404.
func (s *Site) Serve(w http.ResponseWriter, r *http.Request, name string) {
	b, err := s.Get(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNotRegular) {
			fmt.Fprintf(s.log, "site: %v\n", err) // such as a link out of the folder
		}
		http.NotFound(w, r)
		return
	}
	b.Send(w, r)
}

// errNotRegular is returned for a name that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// Get returns the body of the regular file name, from the cache while the
// file and its sidecars are unchanged in size and modification time.
func (s *Site) Get(name string) (*httpbody.Body, error) {
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
	typ, compress := ContentType(name)
	b := httpbody.New(typ, raw)
	if compress {
		b = b.With("gzip", httpbody.Gzip(context.Background(), raw, gzip.DefaultCompression))
	}
	for i, sc := range sidecars {
		// A sidecar is stale when older than the file, within a second:
		// compressors that give their output the input's time (brotli -o,
		// gzip -k) may keep only its seconds.
		if k := keys[1+i]; k.mod.IsZero() || k.mod.Before(fi.ModTime().Truncate(time.Second)) {
			continue // absent, or stale: made from an older file
		}
		if data, _, err := s.read(name + sc.ext); err == nil {
			b = b.With(sc.coding, data)
		}
	}
	keys[0].size, keys[0].mod = fi.Size(), fi.ModTime()
	f.keys, f.body = keys, b
	return b, nil
}

// stat returns the keys of the regular file name and its sidecars.
func (s *Site) stat(name string) (fileKeys, error) {
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
func (s *Site) read(name string) ([]byte, fs.FileInfo, error) {
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

// ContentType is the type of a file from its extension, and whether it is
// worth compressing; unknown extensions are application/octet-stream.
func ContentType(name string) (typ string, compress bool) {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t.typ, t.compress
	}
	return "application/octet-stream", true
}
