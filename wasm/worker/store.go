//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"syscall/js"

	"cifarlab/cifar"
	"cifarlab/internal/jsutil"
)

// The page keeps the dataset it trained on last in the browser's Cache
// Storage, so that a reload trains at once: the cache storeName holds one
// dataset, as the entries
//
//	/cifarlab-store/v1/ID/train.bin   the training records (CIFAR binary layout)
//	/cifarlab-store/v1/ID/test.bin    the test records, when there is a test split
//	/cifarlab-store/v1/ID/meta.json   {"id","source","classes","train","test"}, written last
//
// where ID names where the data came from: "server-ETAG" for the server's
// dataset (ETAG from /dataset/status, a hash of its content), "file-NAME-SIZE"
// for a file the user picked or dropped. A dataset counts as stored only
// when meta.json is there and the records match its counts; storing one
// deletes the others first. The entry lastKey holds the ID of the dataset
// used last.
const (
	storeName   = "cifarlab-datasets-v1"
	storePrefix = "/cifarlab-store/v1/"
	lastKey     = storePrefix + "last"
)

// store is the page's Cache Storage of datasets.
type store struct {
	cache js.Value
}

// storedMeta is meta.json.
type storedMeta struct {
	ID      string   `json:"id"`
	Source  string   `json:"source"`
	Classes []string `json:"classes"`
	Train   int      `json:"train"`
	Test    int      `json:"test"`
}

// openStore opens the cache; without Cache Storage (a page that is not a
// secure context) it returns an error saying so.
func openStore(ctx context.Context) (*store, error) {
	caches := js.Global().Get("caches")
	if !caches.Truthy() {
		return nil, errors.New("this page has no Cache Storage (it needs a secure context, such as http://127.0.0.1 or https), so datasets are not kept across reloads")
	}
	c, err := jsutil.Await(ctx, caches.Call("open", storeName))
	if err != nil {
		return nil, fmt.Errorf("open the dataset cache: %w", err)
	}
	return &store{cache: c}, nil
}

func storeURL(id, file string) string { return storePrefix + url.PathEscape(id) + "/" + file }

// serverID and fileID are the IDs of a dataset by its origin.
func serverID(etag string) string         { return "server-" + etag }
func fileID(name string, size int) string { return fmt.Sprintf("file-%s-%d", name, size) }

// get returns the bytes of an entry, or nil when there is none.
func (s *store) get(ctx context.Context, key string) ([]byte, error) {
	resp, err := jsutil.Await(ctx, s.cache.Call("match", key))
	if err != nil {
		return nil, err
	}
	if !resp.Truthy() {
		return nil, nil
	}
	buf, err := jsutil.Await(ctx, resp.Call("arrayBuffer"))
	if err != nil {
		return nil, err
	}
	return jsutil.BytesFromJS(buf), nil
}

func (s *store) put(ctx context.Context, key string, data []byte, typ string) error {
	headers := js.Global().Get("Object").New()
	headers.Set("Content-Type", typ)
	init := js.Global().Get("Object").New()
	init.Set("headers", headers)
	var resp js.Value
	if err := jsutil.Try(func() { resp = js.Global().Get("Response").New(jsutil.BytesToJS(data), init) }); err != nil {
		return err
	}
	_, err := jsutil.Await(ctx, s.cache.Call("put", key, resp))
	return err
}

// load returns the stored dataset id, or nil when it is not (completely)
// stored.
func (s *store) load(ctx context.Context, id string) (*cifar.Dataset, error) {
	raw, err := s.get(ctx, storeURL(id, "meta.json"))
	if err != nil || raw == nil {
		return nil, err
	}
	var m storedMeta
	if err := json.Unmarshal(raw, &m); err != nil || m.ID != id || len(m.Classes) < 2 || m.Train < 1 {
		return nil, nil // not ours, or from an older page: store it again
	}
	ds := &cifar.Dataset{Classes: m.Classes, Source: m.Source}
	for _, f := range []struct {
		name  string
		count int
		dst   **cifar.Split
	}{{"train.bin", m.Train, &ds.Train}, {"test.bin", m.Test, &ds.Test}} {
		if f.count == 0 {
			continue
		}
		data, err := s.get(ctx, storeURL(id, f.name))
		if err != nil {
			return nil, err
		}
		if len(data) != f.count*cifar.RecordSize {
			return nil, nil
		}
		split, err := cifar.ParseBin(m.Source+" ("+f.name+", kept by the browser)", data)
		if err != nil {
			return nil, nil
		}
		split.Name = strings.TrimSuffix(f.name, ".bin")
		*f.dst = split
	}
	return ds, nil
}

// save stores ds under id, replacing whatever was stored.
func (s *store) save(ctx context.Context, id string, ds *cifar.Dataset) error {
	if err := s.clear(ctx); err != nil {
		return err
	}
	train := ds.Train
	if train == nil {
		train = ds.Only
	}
	m := storedMeta{ID: id, Source: ds.Source, Classes: ds.Classes, Train: train.Len()}
	if err := s.put(ctx, storeURL(id, "train.bin"), train.Records, "application/octet-stream"); err != nil {
		return fmt.Errorf("keep the training images: %w", err)
	}
	if ds.Test != nil {
		m.Test = ds.Test.Len()
		if err := s.put(ctx, storeURL(id, "test.bin"), ds.Test.Records, "application/octet-stream"); err != nil {
			return fmt.Errorf("keep the test images: %w", err)
		}
	}
	meta, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.put(ctx, storeURL(id, "meta.json"), meta, "application/json")
}

// clear deletes every stored entry.
func (s *store) clear(ctx context.Context) error {
	keys, err := jsutil.Await(ctx, s.cache.Call("keys"))
	if err != nil {
		return err
	}
	for i := 0; i < keys.Length(); i++ {
		if _, err := jsutil.Await(ctx, s.cache.Call("delete", keys.Index(i))); err != nil {
			return err
		}
	}
	return nil
}

// lastUsed and setLastUsed read and write the ID of the dataset used last
// ("" when there is none). The worker that reads the dataset has no
// localStorage: the ID is an entry of the cache.
func (s *store) lastUsed(ctx context.Context) string {
	b, err := s.get(ctx, lastKey)
	if err != nil {
		return ""
	}
	return string(b)
}

func (s *store) setLastUsed(ctx context.Context, id string) error {
	return s.put(ctx, lastKey, []byte(id), "text/plain")
}
