//go:build js && wasm

package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"cifarlab/cifar"
	"cifarlab/internal/datasetapi"
	"cifarlab/internal/jsutil"
)

// fakeServer replaces the page's fetch with cifarlab serve's dataset
// endpoint: /dataset/status answers "downloading" twice, then "ready".
type fakeServer struct {
	mu       sync.Mutex
	polls    int
	gets     map[string]int
	train    []byte
	test     []byte
	restore  func()
	statusFn func(polls int) datasetapi.Status
}

func newFakeServer(t *testing.T, train, test []byte) *fakeServer {
	f := &fakeServer{gets: map[string]int{}, train: train, test: test}
	f.statusFn = func(polls int) datasetapi.Status {
		var st datasetapi.Status
		st.Source = "fake"
		if polls < 3 {
			st.State = "downloading"
			st.Progress.Done, st.Progress.Total = int64(polls)*1e6, 3e6
			return st
		}
		st.State, st.ETag, st.Classes = "ready", "e1", cifar.CIFAR10Classes
		st.Train, st.Test = len(train)/cifar.RecordSize, len(test)/cifar.RecordSize
		return st
	}
	g := js.Global()
	orig := g.Get("fetch")
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		url := args[0].String()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.gets[url]++
		var body []byte
		typ, code := "application/octet-stream", 200
		switch url {
		case datasetapi.StatusPath:
			f.polls++
			body, _ = json.Marshal(f.statusFn(f.polls))
			typ = "application/json"
		case datasetapi.TrainPath:
			body = f.train
		case datasetapi.TestPath:
			body = f.test
		default:
			code, body = 404, []byte("not found")
		}
		init := g.Get("Object").New()
		init.Set("status", code)
		headers := g.Get("Object").New()
		headers.Set("Content-Type", typ)
		init.Set("headers", headers)
		return g.Get("Promise").Call("resolve", g.Get("Response").New(jsutil.BytesToJS(body), init))
	})
	g.Set("fetch", fn)
	f.restore = func() { g.Set("fetch", orig); fn.Release() }
	t.Cleanup(f.restore)
	return f
}

// received collects what a loader hands over.
type received struct {
	mu  sync.Mutex
	ids []string
	ds  []*cifar.Dataset
}

func (r *received) use(id string, ds *cifar.Dataset) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	r.ds = append(r.ds, ds)
}

func (r *received) wait(t *testing.T, n int) (string, *cifar.Dataset) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		if len(r.ids) >= n {
			id, ds := r.ids[n-1], r.ds[n-1]
			r.mu.Unlock()
			return id, ds
		}
		r.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no dataset number %d came", n)
	return "", nil
}

func TestLoaderServerAndCache(t *testing.T) {
	train, test := records(40), records(10)
	srv := newFakeServer(t, train, test)
	st, err := openStore(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.clear(t.Context()); err != nil {
		t.Fatal(err)
	}
	u := newBoard()
	var got received
	l := &loader{board: u, use: got.use, store: st}
	go l.start()
	id, ds := got.wait(t, 1)
	if id != "server-e1" || !bytes.Equal(ds.Train.Records, train) || !bytes.Equal(ds.Test.Records, test) || ds.Source != "fake" {
		t.Fatalf("from the server: %s, %s", id, ds.Source)
	}
	if srv.polls < 3 || srv.gets[datasetapi.TrainPath] != 1 || srv.gets[datasetapi.TestPath] != 1 {
		t.Errorf("%d polls, %d and %d downloads", srv.polls, srv.gets[datasetapi.TrainPath], srv.gets[datasetapi.TestPath])
	}
	if id := l.lastUsed(t.Context()); id != "server-e1" {
		t.Errorf("last used %q", id)
	}

	// A reload: the kept dataset, at once, without downloading.
	l2 := &loader{board: u, use: got.use, store: st}
	go l2.start()
	id, ds = got.wait(t, 2)
	if id != "server-e1" || !bytes.Equal(ds.Train.Records, train) || srv.gets[datasetapi.TrainPath] != 1 {
		t.Errorf("after a reload: %s, %d downloads of train.bin", id, srv.gets[datasetapi.TrainPath])
	}
	if !strings.Contains(ds.Train.Source, "kept by the browser") {
		t.Errorf("the kept dataset says it comes from %q", ds.Train.Source)
	}
}

func TestLoaderServerError(t *testing.T) {
	srv := newFakeServer(t, nil, nil)
	srv.statusFn = func(int) datasetapi.Status {
		return datasetapi.Status{State: "error", Error: "the official archive's checksum does not match"}
	}
	u := newBoard()
	l := &loader{board: u, use: func(string, *cifar.Dataset) { t.Error("a dataset came from a failing server") }}
	l.start()
	if e := u.status().Error; !strings.Contains(e, "checksum does not match") {
		t.Errorf("error %q", e)
	}
}

func TestLoaderFile(t *testing.T) {
	newFakeServer(t, nil, nil).statusFn = func(int) datasetapi.Status { return datasetapi.Status{State: "preparing"} }
	st, err := openStore(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u := newBoard()
	var got received
	l := &loader{board: u, use: got.use, store: st}
	file := func(name string, data []byte) js.Value {
		return js.Global().Get("File").New([]any{jsutil.BytesToJS(data)}, name)
	}

	l.fromFile(file("broken.bin", records(2)[:4000]))
	if e := u.status().Error; !strings.Contains(e, "broken.bin") || !strings.Contains(e, "not a multiple") {
		t.Errorf("a broken file: error %q", e)
	}
	l.fromFile(file("mine.bin", records(12)))
	id, ds := got.wait(t, 1)
	if id != fileID("mine.bin", 12*cifar.RecordSize) || ds.Train.Len() != 12 || ds.Test != nil {
		t.Fatalf("a .bin: %s with %d images", id, ds.Train.Len())
	}
	if e := u.status().Error; e != "" {
		t.Errorf("a good file leaves error %q", e)
	}
	kept, err := st.load(t.Context(), id)
	if err != nil || kept == nil || kept.Train.Len() != 12 {
		t.Errorf("the file's dataset was not kept: %v, %v", kept, err)
	}
	if last := l.lastUsed(t.Context()); last != id {
		t.Errorf("last used %q", last)
	}
}
