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
// (make site writes a .zst of each module when zstd is installed: gzip leaves
// a Go wasm module about a third larger than zstd -19 does). The smallest
// encoding the request's Accept-Encoding allows is sent (Chromium offers
// gzip, br and zstd on http://127.0.0.1), else the file as it is. Every
// response carries Cache-Control: no-cache, a strong ETag (the hex SHA-256
// of the file, with "-gzip", "-zstd" or "-br" appended for an encoding),
// Vary: Accept-Encoding and Content-Length; a matching If-None-Match gets
// 304, so a reload revalidates without a transfer and a rebuilt
// module is picked up at once. index.html, wasm_exec.js and the two
// modules (cifarlab.wasm, cifarlab-worker.wasm) are read and compressed at
// startup.
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
	"cifarlab/internal/dataserve"
	"cifarlab/internal/sitefiles"
	"context"
	"fmt"
	"io"
	stdnet "net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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
	site, err := sitefiles.Open(dir, stderr)
	if err != nil {
		return err
	}
	defer site.Close()
	ln, err := stdnet.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("%w (pass -addr 127.0.0.1:PORT for another port)", err)
	}
	url, loopback := siteURL(ln.Addr())
	if !loopback {
		fmt.Fprintf(stderr, "warning: -addr %s accepts connections from other machines, where the page is plain http and not a secure context, so it gets no WebGPU there\n", f.addr)
	}
	site.Warm()
	data := dataserve.New(f.data, stderr)
	dataCtx, cancelData := context.WithCancel(context.Background())
	prepared := data.Start(dataCtx)
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
	site *sitefiles.Site
	data *dataserve.Dataset
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := sitefiles.CleanPath(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if rest, ok := strings.CutPrefix(name, "dataset/"); ok {
		s.data.Serve(w, r, rest)
		return
	}
	s.site.Serve(w, r, name)
}
