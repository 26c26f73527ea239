//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"syscall/js"

	"cifarlab/internal/jsutil"
)

// absolute resolves url against the page's URL (see cifarlab-worker.js):
// the worker's own may be another.
func absolute(url string) string {
	base := js.Global().Get("cifarlabPage")
	if !base.Truthy() || base.Get("base").Type() != js.TypeString || base.Get("base").String() == "" {
		return url
	}
	var abs string
	if err := jsutil.Try(func() { abs = js.Global().Get("URL").New(url, base.Get("base")).Get("href").String() }); err != nil {
		return url
	}
	return abs
}

// fetch GETs url (no HTTP cache) and returns the response, an error for a
// status other than 2xx naming the status and the body's first line.
func fetch(ctx context.Context, url string) (js.Value, error) {
	url = absolute(url)
	init := js.Global().Get("Object").New()
	init.Set("cache", "no-store")
	var p js.Value
	if err := jsutil.Try(func() { p = js.Global().Call("fetch", url, init) }); err != nil {
		return js.Value{}, fmt.Errorf("GET %s: %w", url, err)
	}
	resp, err := jsutil.Await(ctx, p)
	if err != nil {
		return js.Value{}, fmt.Errorf("GET %s: %w", url, err)
	}
	if !resp.Get("ok").Bool() {
		msg := resp.Get("statusText").String()
		if text, err := jsutil.Await(ctx, resp.Call("text")); err == nil {
			if line, _, _ := strings.Cut(strings.TrimSpace(text.String()), "\n"); line != "" {
				msg = line
			}
		}
		return js.Value{}, &httpError{url: url, code: resp.Get("status").Int(), msg: msg}
	}
	return resp, nil
}

// httpError is a response whose status is not 2xx.
type httpError struct {
	url  string
	code int
	msg  string
}

func (e *httpError) Error() string { return fmt.Sprintf("GET %s: %d %s", e.url, e.code, e.msg) }

// fetchJSON GETs url and decodes its JSON body into v.
func fetchJSON(ctx context.Context, url string, v any) error {
	resp, err := fetch(ctx, url)
	if err != nil {
		return err
	}
	text, err := jsutil.Await(ctx, resp.Call("text"))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if err := json.Unmarshal([]byte(text.String()), v); err != nil {
		return fmt.Errorf("GET %s: not the JSON expected: %w", url, err)
	}
	return nil
}

// download GETs url into memory, reading the body as it arrives and
// calling progress with the bytes so far. size, when known (> 0), sizes
// the buffer and bounds the body: more is an error.
func download(ctx context.Context, url string, size int, progress func(done int)) ([]byte, error) {
	resp, err := fetch(ctx, url)
	if err != nil {
		return nil, err
	}
	body := resp.Get("body")
	if !body.Truthy() { // no streams: all at once
		buf, err := jsutil.Await(ctx, resp.Call("arrayBuffer"))
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		data := jsutil.BytesFromJS(buf)
		progress(len(data))
		return data, nil
	}
	reader := body.Call("getReader")
	data := make([]byte, 0, max(size, 0))
	for {
		r, err := jsutil.Await(ctx, reader.Call("read"))
		if err != nil {
			reader.Call("cancel")
			return nil, fmt.Errorf("GET %s: after %d bytes: %w", url, len(data), err)
		}
		if r.Get("done").Bool() {
			break
		}
		chunk := r.Get("value")
		n := chunk.Get("length").Int()
		if size > 0 && len(data)+n > size {
			reader.Call("cancel")
			return nil, fmt.Errorf("GET %s: more than the %d bytes expected", url, size)
		}
		data = slices.Grow(data, n)[:len(data)+n]
		js.CopyBytesToGo(data[len(data)-n:], chunk)
		progress(len(data))
	}
	return data, nil
}
