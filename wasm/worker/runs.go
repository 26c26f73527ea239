//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"time"

	"cifarlab/internal/app"
	"cifarlab/internal/jsutil"
)

// The page keeps the session's runs (app.EncodeRuns) in the browser's
// Cache Storage, so that a reload shows them again: the cache runsCache
// holds the one entry runsKey, replaced whenever the session hands over
// its runs (a run ends or is forgotten, an epoch ends, and every half
// minute of training).
const (
	runsCache = "cifarlab-runs-v1"
	runsKey   = "/cifarlab-store/runs.json"
)

// runKeeper writes the latest runs to the cache, one write at a time.
type runKeeper struct {
	st    *store
	board *board
	mu    sync.Mutex
	next  []byte // waiting to be written; nil when none
	busy  bool
}

// openRuns opens the cache and returns the runs kept there (nil when
// none) and the keeper of the next ones.
func openRuns(ctx context.Context, u *board) ([]byte, *runKeeper, error) {
	caches := js.Global().Get("caches")
	if !caches.Truthy() {
		return nil, nil, errors.New("this page has no Cache Storage (it needs a secure context, such as http://127.0.0.1 or https), so runs are not kept across reloads")
	}
	c, err := jsutil.Await(ctx, caches.Call("open", runsCache))
	if err != nil {
		return nil, nil, fmt.Errorf("open the cache of runs: %w", err)
	}
	st := &store{cache: c}
	data, err := st.get(ctx, runsKey)
	if err != nil {
		return nil, nil, fmt.Errorf("read the kept runs: %w", err)
	}
	k := &runKeeper{st: st, board: u}
	if data != nil {
		if _, derr := app.DecodeRuns(data); derr != nil {
			// Kept aside, not overwritten by the next runs: nothing lost.
			if err := st.put(ctx, runsKey+".unreadable", data, "application/octet-stream"); err != nil {
				return nil, nil, fmt.Errorf("the kept runs are unreadable (%v) and could not be kept aside: %w", derr, err)
			}
			u.note(noteRuns, fmt.Sprintf("the kept runs were unreadable (%v): kept aside as %s.unreadable in the cache %s", derr, runsKey, runsCache))
			return nil, k, nil
		}
	}
	return data, k, nil
}

// keep writes data (called on the session's goroutine: it does not wait).
func (k *runKeeper) keep(data []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.next = data
	if !k.busy {
		k.busy = true
		go k.write()
	}
}

func (k *runKeeper) write() {
	for {
		k.mu.Lock()
		data := k.next
		k.next = nil
		if data == nil {
			k.busy = false
			k.mu.Unlock()
			return
		}
		k.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := k.st.put(ctx, runsKey, data, "application/json")
		cancel()
		if err != nil {
			k.board.note(noteRuns, "the runs are not kept for the next visit: "+err.Error())
		} else {
			k.board.note(noteRuns, "")
		}
	}
}
