package main

// cifarlab site: the page as a folder that any static file server hosts as
// it is (GitHub Pages, an nginx or Apache folder, python3 -m http.server),
// with no cifarlab serve behind it:
//
//	index.html, cifarlab.js,               the page
//	cifarlab-worker.js, wasm_exec.js,
//	cifarlab-simd.js
//	cifarlab.wasm.gz,                      the programs (the page's and its trainer's),
//	cifarlab-worker.wasm.gz                gzip-compressed: the page decompresses them
//	                                       itself (DecompressionStream), so a host that
//	                                       compresses nothing sends a quarter of the bytes
//	dataset/status                          the JSON of serve's /dataset/status, "ready"
//	dataset/train.bin, dataset/test.bin     the records, in the CIFAR binary layout
//
// The page fetches all of them by relative URLs, so the folder works at any
// path of any host. Without -data there is no dataset/ folder: the page
// says so and asks for a file.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"cifarlab/cifar"
	"cifarlab/internal/atomicfile"
	"cifarlab/internal/dataserve"
	"cifarlab/internal/datasetapi"
	"cifarlab/internal/httpbody"
)

const siteUsage = "write the page as a folder any static web host serves, with the dataset as plain files"

type siteFlags struct {
	out, site, data, test string
	limit                 int
}

func parseSiteFlags(args []string, stderr io.Writer) (*siteFlags, error) {
	fs := newFlagSet("site", stderr)
	f := &siteFlags{}
	fs.StringVar(&f.out, "out", "", "the `DIR` to write (created; files of the same names are replaced)")
	fs.StringVar(&f.site, "site", "", "the built site `DIR` (make site); default: as serve finds it")
	fs.StringVar(&f.data, "data", "", "dataset `PATH` to publish with the page (any format train reads); none: the page asks for a file")
	fs.StringVar(&f.test, "test", "", "held-out test split, when -data has none (e.g. a single .bin)")
	fs.IntVar(&f.limit, "limit", 0, "publish N training images only, taken from the classes in turn (0: all)")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, flagError(fs, "unexpected argument %q", fs.Arg(0))
	case f.out == "":
		return nil, flagError(fs, "-out DIR is required")
	case f.limit < 0:
		return nil, flagError(fs, "-limit %d: must be 0 (all) or more", f.limit)
	case f.data == "" && (f.test != "" || f.limit > 0):
		return nil, flagError(fs, "-test and -limit go with -data")
	}
	return f, nil
}

func runSite(args []string, stdout, stderr io.Writer) error {
	f, err := parseSiteFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return writeSite(ctx, f, stdout, stderr)
}

// siteFiles are the page's files, copied as they are; the modules of
// siteWasms go compressed.
var (
	siteFiles = []string{"index.html", "cifarlab.js", "cifarlab-worker.js", "cifarlab-simd.js", "wasm_exec.js"}
	siteWasms = []string{"cifarlab.wasm", "cifarlab-worker.wasm"}
)

// writeSite writes the folder.
func writeSite(ctx context.Context, f *siteFlags, stdout, stderr io.Writer) error {
	dir, err := findSite(f.site)
	if err != nil {
		return err
	}
	var ds *cifar.Dataset
	var train, test *cifar.Split
	if f.data != "" { // read first: a bad -data leaves no half-written folder
		if ds, train, test, err = openSplits(ctx, f.data, f.test, stderr); err != nil {
			return err
		}
		if f.limit > 0 && f.limit < train.Len() {
			train = train.Balanced(f.limit, len(ds.Classes))
		}
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	total := int64(0)
	put := func(name string, data []byte) error {
		path := filepath.Join(f.out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		total += int64(len(data))
		return atomicfile.WriteFile(path, func(w io.Writer) error { _, err := w.Write(data); return err })
	}
	for _, name := range siteFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%w (make site builds the site)", err)
		}
		if name == "index.html" {
			if data, err = useCompressedWasm(data); err != nil {
				return err
			}
		}
		if err := put(name, data); err != nil {
			return err
		}
	}
	for _, name := range siteWasms {
		wasm, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%w (make site builds it)", err)
		}
		gz := httpbody.Gzip(ctx, wasm, gzip.BestCompression)
		if gz == nil {
			return fmt.Errorf("compress %s: %w", name, ctx.Err())
		}
		if err := put(name+".gz", gz); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s.gz: %s (%s is %s)\n", name, megabytes(len(gz)), name, megabytes(len(wasm)))
	}
	fmt.Fprintf(stdout, "the page and its programs: %s, what a host that compresses nothing sends\n", megabytes(int(total)))
	if ds != nil {
		if err := putDataset(put, f.data, ds.Classes, train, test); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "dataset: %d training and %d test images of %d classes\n", train.Len(), splitLen(test), len(ds.Classes))
	}
	fmt.Fprintf(stdout, "wrote %s: %s in all; any static file server hosts it as it is\n", f.out, megabytes(int(total)))
	return nil
}

// wasmMeta is the element of index.html that names the module the page
// loads (see site/cifarlab.js).
const wasmMeta = `<meta name="cifarlab-wasm" content="cifarlab.wasm">`

// useCompressedWasm points index.html at cifarlab.wasm.gz (and so at
// cifarlab-worker.wasm.gz: see site/cifarlab.js).
func useCompressedWasm(html []byte) ([]byte, error) {
	if bytes.Count(html, []byte(wasmMeta)) != 1 {
		return nil, fmt.Errorf("index.html has no %s to point at cifarlab.wasm.gz (is the site from this cifarlab?)", wasmMeta)
	}
	return bytes.Replace(html, []byte(wasmMeta), []byte(`<meta name="cifarlab-wasm" content="cifarlab.wasm.gz">`), 1), nil
}

// putDataset writes dataset/ as serve's endpoint answers it when ready.
func putDataset(put func(string, []byte) error, source string, classes []string, train, test *cifar.Split) error {
	const typ = "application/octet-stream"
	tb := httpbody.New(typ, train.Records)
	var sb *httpbody.Body
	if test != nil {
		sb = httpbody.New(typ, test.Records)
	}
	st := datasetapi.Status{State: datasetapi.Ready, Source: filepath.Base(source), Classes: classes, Train: train.Len(),
		Test: splitLen(test), ETag: dataserve.ETag(classes, tb, sb)}
	status, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := put(datasetapi.TrainPath, train.Records); err != nil {
		return err
	}
	if test != nil {
		if err := put(datasetapi.TestPath, test.Records); err != nil {
			return err
		}
	}
	return put(datasetapi.StatusPath, status) // last: the page waits for it
}

// megabytes writes n bytes in MB, one decimal.
func megabytes(n int) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
