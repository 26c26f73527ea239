//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"cifarlab/cifar"
	"cifarlab/internal/datasetapi"
	"cifarlab/internal/jsutil"
)

// pollEvery is how often the server's status is asked while it prepares
// the dataset.
const pollEvery = 500 * time.Millisecond

// loader finds the dataset and gives it to the session: the one kept from
// the last visit, the server's, or a file the user picks or drops. A new
// load cancels the one in progress.
type loader struct {
	store *store // nil without Cache Storage
	board *board
	use   func(id string, ds *cifar.Dataset) // hands a dataset to the session

	mu      sync.Mutex
	cancel  context.CancelFunc
	current string // the ID of the dataset in use
}

// begin starts a load, cancelling the one in progress.
func (l *loader) begin() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	l.mu.Lock()
	if l.cancel != nil {
		l.cancel()
	}
	l.cancel = cancel
	l.mu.Unlock()
	return ctx
}

func (l *loader) setCurrent(id string) {
	l.mu.Lock()
	l.current = id
	l.mu.Unlock()
}

func (l *loader) currentID() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.current
}

// start loads the dataset used last when the browser kept it, else the
// server's.
func (l *loader) start() {
	ctx := l.begin()
	if id := l.lastUsed(ctx); id != "" {
		l.board.progress("reading the dataset kept from the last visit…")
		ds, err := l.store.load(ctx, id)
		l.board.progress("")
		if err == nil && ds != nil {
			l.give(id, ds, "kept by the browser")
			go l.watchServer(ctx)
			return
		}
	}
	l.fromServer(ctx)
}

// lastUsed is the ID of the dataset kept from the last visit, or "".
func (l *loader) lastUsed(ctx context.Context) string {
	if l.store == nil {
		return ""
	}
	return l.store.lastUsed(ctx)
}

// give hands ds to the session.
func (l *loader) give(id string, ds *cifar.Dataset, how string) {
	l.setCurrent(id)
	if l.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := l.store.setLastUsed(ctx, id); err != nil {
			l.board.note(noteStore, "the browser could not note which dataset is in use ("+err.Error()+"): a reload may load another")
		}
		cancel()
	}
	l.board.setError(errData, nil)
	if strings.HasPrefix(id, "file-") {
		l.board.setError(errFile, nil)
	}
	l.board.useDataset(ds, how)
	l.use(id, ds)
}

// fromServer waits for the server's dataset and loads it, from the
// browser's cache when it holds the same (by the server's ETag).
func (l *loader) fromServer(ctx context.Context) {
	st, err := l.awaitServer(ctx, true)
	if err != nil {
		if ctx.Err() == nil {
			l.noServer(err)
		}
		return
	}
	id := serverID(st.ETag)
	if l.store != nil {
		if ds, err := l.store.load(ctx, id); err == nil && ds != nil {
			l.give(id, ds, "kept by the browser")
			return
		}
	}
	ds, err := l.downloadServer(ctx, st)
	if err != nil {
		if ctx.Err() == nil {
			l.board.progress("")
			l.board.setError(errData, fmt.Errorf("the server's dataset: %w", err))
			l.board.askForFile()
		}
		return
	}
	l.keep(ctx, id, ds)
	l.give(id, ds, "from the server")
}

// noServer says that the server offers no dataset.
func (l *loader) noServer(err error) {
	l.board.progress("")
	var he *httpError
	if errors.As(err, &he) && he.code == 404 {
		l.board.note(noteData, "this server offers no dataset: pick or drop a CIFAR-10 file")
	} else {
		l.board.setError(errData, fmt.Errorf("the server's dataset: %w", err))
	}
	l.board.askForFile()
}

// awaitServer polls the server's status until its dataset is ready (or
// failed), showing its progress when show is set.
func (l *loader) awaitServer(ctx context.Context, show bool) (*datasetapi.Status, error) {
	for {
		var st datasetapi.Status
		if err := fetchJSON(ctx, datasetapi.StatusPath, &st); err != nil {
			return nil, err
		}
		switch st.State {
		case datasetapi.Ready:
			if show {
				l.board.progress("")
			}
			if st.ETag == "" || st.Train < 1 || len(st.Classes) < 2 {
				return nil, fmt.Errorf("the server says ready but offers %d training images of %d classes (etag %q)", st.Train, len(st.Classes), st.ETag)
			}
			return &st, nil
		case datasetapi.Error:
			if show {
				l.board.progress("")
			}
			return nil, fmt.Errorf("%s", st.Error)
		case datasetapi.Downloading:
			if show {
				l.board.progress(fmt.Sprintf("the server is downloading CIFAR-10: %s", megabytes(st.Progress.Done, st.Progress.Total)))
			}
		default:
			if show {
				l.board.progress("the server is preparing the dataset (" + st.Source + ")…")
			}
		}
		select {
		case <-time.After(pollEvery):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// downloadServer fetches the server's records with progress and checks
// them.
func (l *loader) downloadServer(ctx context.Context, st *datasetapi.Status) (*cifar.Dataset, error) {
	total := int64(st.Train+st.Test) * cifar.RecordSize
	get := func(url string, records int, before int64) (*cifar.Split, error) {
		data, err := download(ctx, url, records*cifar.RecordSize, func(done int) {
			l.board.progress("downloading the dataset: " + megabytes(before+int64(done), total))
		})
		if err != nil {
			return nil, err
		}
		if len(data) != records*cifar.RecordSize {
			return nil, fmt.Errorf("%s: %d bytes, but the server announced %d records (%d bytes)", url, len(data), records, records*cifar.RecordSize)
		}
		return cifar.ParseBin(st.Source+" ("+url+")", data)
	}
	ds := &cifar.Dataset{Classes: st.Classes, Source: st.Source}
	var err error
	if ds.Train, err = get(datasetapi.TrainPath, st.Train, 0); err != nil {
		return nil, err
	}
	ds.Train.Name = "train"
	if st.Test > 0 {
		if ds.Test, err = get(datasetapi.TestPath, st.Test, int64(st.Train)*cifar.RecordSize); err != nil {
			return nil, err
		}
		ds.Test.Name = "test"
	}
	l.board.progress("")
	return ds, nil
}

// keep stores ds for the next visit; failing to is a notice, not an error.
func (l *loader) keep(ctx context.Context, id string, ds *cifar.Dataset) {
	if l.store == nil {
		return
	}
	l.board.progress("keeping the dataset in the browser for the next visit…")
	err := l.store.save(ctx, id, ds)
	l.board.progress("")
	if err != nil && ctx.Err() == nil {
		l.board.note(noteStore, "the browser could not keep the dataset ("+err.Error()+"): a reload will load it again")
	}
}

// watchServer waits for the server's dataset in the background and, when
// it differs from the one in use, offers it.
func (l *loader) watchServer(ctx context.Context) {
	st, err := l.awaitServer(ctx, false)
	if err != nil || l.currentID() == serverID(st.ETag) {
		return
	}
	l.board.offerServer(fmt.Sprintf("the server offers %s (%d training images)", st.Source, st.Train))
}

// fromFile reads a dataset file the user picked or dropped: the official
// tar.gz, a .bin batch or an image-folder archive.
func (l *loader) fromFile(file js.Value) {
	ctx := l.begin()
	name, size := file.Get("name").String(), file.Get("size").Int()
	l.board.progress(fmt.Sprintf("reading %s (%s)…", name, megabytes(int64(size), 0)))
	fail := func(err error) {
		l.board.progress("")
		l.board.setError(errFile, err)
		l.board.askForFile()
		if l.currentID() == "" { // nothing to train on: go on with the server's
			go l.fromServer(l.begin())
		}
	}
	buf, err := jsutil.Await(ctx, file.Call("arrayBuffer"))
	if err != nil {
		if ctx.Err() == nil {
			fail(fmt.Errorf("read %s: %w", name, err))
		}
		return
	}
	data := jsutil.BytesFromJS(buf)
	l.board.progress(fmt.Sprintf("decoding %s (the page may pause while it does)…", name))
	time.Sleep(20 * time.Millisecond) // let the page show it
	ds, err := parseDataset(name, data)
	if err != nil {
		fail(err)
		return
	}
	if ctx.Err() != nil {
		return
	}
	id := fileID(name, size)
	l.keep(ctx, id, ds)
	l.give(id, ds, "from "+name)
}

// parseDataset reads a dataset file's bytes; a single .bin batch is the
// training split.
func parseDataset(name string, data []byte) (*cifar.Dataset, error) {
	ds, err := cifar.OpenReader(name, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if ds.Train == nil && ds.Only != nil {
		ds.Train, ds.Only = ds.Only, nil
	}
	if ds.Train == nil || ds.Train.Len() == 0 {
		return nil, fmt.Errorf("%s has no training images (no data_batch_N.bin or train/ folder)", name)
	}
	ds.Classes = slices.Clip(ds.Classes)
	return ds, nil
}

// megabytes writes "12.3 of 170.5 MB" (or "12.3 MB" when total is 0).
func megabytes(done, total int64) string {
	if total <= 0 {
		return fmt.Sprintf("%.1f MB", float64(done)/1e6)
	}
	return fmt.Sprintf("%.1f of %.1f MB (%d%%)", float64(done)/1e6, float64(total)/1e6, 100*done/total)
}
