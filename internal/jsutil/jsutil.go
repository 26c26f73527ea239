//go:build js && wasm

// Package jsutil waits on JavaScript promises and turns JavaScript
// exceptions into Go errors, for the packages that run in the browser.
package jsutil

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
)

// Await blocks until the promise p settles or ctx ends, returning the
// value p resolved to or its rejection as an error. It must run on a
// goroutine of its own, never inside a js.Func: the callbacks that settle
// p run only while Go waits here.
func Await(ctx context.Context, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	done := make(chan result, 1)
	onResolve := js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- result{v: Arg0(args)}
		return nil
	})
	onReject := js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- result{err: Error(Arg0(args))}
		return nil
	})
	p.Call("then", onResolve, onReject)
	select {
	case r := <-done:
		onResolve.Release()
		onReject.Release()
		return r.v, r.err
	case <-ctx.Done():
		// The callbacks stay alive: the promise may still settle.
		return js.Undefined(), ctx.Err()
	}
}

// Arg0 is a callback's first argument, or undefined without one.
func Arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// Error turns a JavaScript exception or rejection reason into an error.
func Error(v js.Value) error {
	if v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString {
		return fmt.Errorf("%s: %s", v.Get("name").String(), v.Get("message").String())
	}
	if v.IsUndefined() || v.IsNull() {
		return errors.New("rejected without a reason")
	}
	return errors.New(v.Call("toString").String())
}

// Try runs f, turning a JavaScript exception (which syscall/js raises as
// a panic of js.Error) into an error.
func Try(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(js.Error); ok {
				err = Error(e.Value)
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}

// BytesToJS copies b into a new Uint8Array.
func BytesToJS(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

// BytesFromJS copies an ArrayBuffer or a typed array of bytes into Go.
func BytesFromJS(v js.Value) []byte {
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		v = js.Global().Get("Uint8Array").New(v)
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}
