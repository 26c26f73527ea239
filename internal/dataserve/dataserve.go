// Package dataserve is cifarlab serve's dataset endpoint: it prepares the
// data in the background (the -data path, or the official archive from
// the cache, downloaded once with its progress in the status) and answers
// GET /dataset/status, /dataset/train.bin and /dataset/test.bin as
// internal/datasetapi describes (the protocol is written at the top of
// serve.go).
package dataserve

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"

	"cifarlab/cifar"
	"cifarlab/internal/datasetapi"
	"cifarlab/internal/httpbody"
)

// Dataset prepares the data in the background and serves it.
type Dataset struct {
	Path     string                               // -data, or "" for the cache
	Remote   cifar.Remote                         // what to download without -data
	CacheDir func() (string, error)               // where downloads are kept
	Open     func(string) (*cifar.Dataset, error) // reads a dataset
	log      io.Writer

	mu          sync.Mutex
	status      datasetapi.Status
	train, test *httpbody.Body // set when ready; test stays nil without a test split

	compressed chan struct{} // closed once the gzip encodings are made (or given up)
}

// New is the dataset of path ("" for the official archive from the
// cache, downloaded once), preparing until Start; progress goes to log.
func New(path string, log io.Writer) *Dataset {
	d := &Dataset{Path: path, Remote: cifar.Official, CacheDir: cifar.CacheDir, Open: cifar.Open, log: log,
		compressed: make(chan struct{})}
	d.status.State = datasetapi.Preparing
	d.status.Classes = []string{}
	return d
}

// Start prepares the data in the background until ready, failed or ctx
// ends; the channel is closed when it has stopped (a partial download is
// deleted by then).
func (d *Dataset) Start(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(d.compressed)
		if err := d.Prepare(ctx); err != nil {
			d.update(func(s *datasetapi.Status) { s.State, s.Error = datasetapi.Error, err.Error() })
			if ctx.Err() == nil { // not merely stopped by a shutdown
				fmt.Fprintf(d.log, "dataset: %v\n", err)
			}
			return
		}
		d.Compress(ctx)
	}()
	return done
}

func (d *Dataset) update(f func(*datasetapi.Status)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(&d.status)
}

// Prepare finds, reads and hashes the data, and makes it ready: Start's
// first step, which serves the records uncompressed until Compress.
func (d *Dataset) Prepare(ctx context.Context) error {
	path, err := d.locate(ctx)
	if err != nil {
		return err
	}
	d.update(func(s *datasetapi.Status) { s.State, s.Source = datasetapi.Preparing, path })
	fmt.Fprintf(d.log, "dataset: reading %s\n", path)
	ds, err := d.Open(path)
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
	train := httpbody.New(typ, trainSplit.Records)
	var test *httpbody.Body
	if ds.Test != nil {
		test = httpbody.New(typ, ds.Test.Records)
	}
	etag := ETag(ds.Classes, train, test)
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
func (d *Dataset) locate(ctx context.Context) (string, error) {
	if d.Path != "" {
		return d.Path, nil
	}
	dir, err := d.CacheDir()
	if err != nil {
		return "", err
	}
	r := d.Remote
	d.update(func(s *datasetapi.Status) { s.Source = filepath.Join(dir, r.Name) })
	r.OnProgress = func(done, total int64) {
		d.update(func(s *datasetapi.Status) {
			s.State, s.Source, s.Progress.Done, s.Progress.Total = datasetapi.Downloading, r.URL, done, total
		})
	}
	return r.Fetch(ctx, dir, d.log)
}

// ETag is the hex SHA-256 of the class names and the files' hashes.
func ETag(classes []string, train, test *httpbody.Body) string {
	h := sha256.New()
	for _, c := range classes {
		fmt.Fprintf(h, "%q\n", c)
	}
	fmt.Fprintf(h, "train %s\n", train.Hash)
	if test != nil {
		fmt.Fprintf(h, "test %s\n", test.Hash)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Compress adds the gzip encoding of each file, one after the other,
// replacing each body once its encoding is made.
func (d *Dataset) Compress(ctx context.Context) {
	for _, slot := range []**httpbody.Body{&d.train, &d.test} {
		d.mu.Lock()
		b := *slot
		d.mu.Unlock()
		if b == nil || ctx.Err() != nil {
			continue
		}
		c := b.With("gzip", httpbody.Gzip(ctx, b.Raw, gzip.DefaultCompression))
		d.mu.Lock()
		*slot = c
		d.mu.Unlock()
	}
}

// Serve answers /dataset/NAME.
func (d *Dataset) Serve(w http.ResponseWriter, r *http.Request, name string) {
	d.mu.Lock()
	status := d.status
	files := map[string]*httpbody.Body{"train.bin": d.train, "test.bin": d.test}
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
		b.Send(w, r)
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

// Compressed is closed once Start has made the gzip encodings (or given
// up).
func (d *Dataset) Compressed() <-chan struct{} { return d.compressed }

func splitLen(s *cifar.Split) int {
	if s == nil {
		return 0
	}
	return s.Len()
}
