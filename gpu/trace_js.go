//go:build js

package gpu

import "syscall/js"

// now is the page's clock (performance.now(), ms), for spans.
func now() float64 { return js.Global().Get("performance").Call("now").Float() }

// span adds a performance measure named name from start to now, which the
// browser's developer tools show in the page's timeline.
func span(name string, start float64) {
	opts := js.Global().Get("Object").New()
	opts.Set("start", start)
	opts.Set("end", now())
	js.Global().Get("performance").Call("measure", name, opts)
}
