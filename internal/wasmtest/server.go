//go:build !js

package main

import (
	"cifarlab/site"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"time"
)

//go:embed page
var pageFiles embed.FS

// server serves on 127.0.0.1 (a secure context, which WebGPU needs) exactly
// the files of one run: the page, its script, wasm_exec.js, the imports of
// cifarlab's SIMD kernel (site/cifarlab-simd.js) and the program.
type server struct {
	srv *http.Server
	ln  net.Listener
}

// wasmPath is where the page fetches the program from.
const wasmPath = "/program.wasm"

// startServer serves the program at binary with the wasm_exec.js at wasmExec.
func startServer(binary, wasmExec string) (*server, error) {
	page, err := fs.Sub(pageFiles, "page")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", serveEmbedded(page, "index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /run.js", serveEmbedded(page, "run.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /wasm_exec.js", serveFile(wasmExec, "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /cifarlab-simd.js", serveBytes(site.SIMDGlue, "text/javascript; charset=utf-8"))
	// WebAssembly.instantiateStreaming insists on application/wasm.
	mux.HandleFunc("GET "+wasmPath, serveFile(binary, "application/wasm"))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	s := &server{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		ln:  ln,
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "wasmtest: file server: %v\n", err)
		}
	}()
	return s, nil
}

// URL is the address of the page.
func (s *server) URL() string {
	return "http://" + s.ln.Addr().String() + "/"
}

func (s *server) Close() error {
	return s.srv.Close()
}

func serveEmbedded(fsys fs.FS, name, contentType string) http.HandlerFunc {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
	return serveBytes(data, contentType)
}

// serveBytes serves data with the given type.
func serveBytes(data []byte, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-store")
		w.Write(data)
	}
}

// serveFile streams the file at path (programs are tens of MB) with the given
// type; http.ServeContent keeps the type it finds in the header.
func serveFile(path, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-store")
		http.ServeContent(w, r, "", info.ModTime(), f)
	}
}
