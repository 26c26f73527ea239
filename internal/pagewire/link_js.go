//go:build js && wasm

package pagewire

import (
	"syscall/js"

	"cifarlab/internal/jsutil"
)

// Link is one end of the channel between the page and its worker, over a
// mailbox that a script made before the program ran (cifarlab.js, for
// the page's end; cifarlab-worker.js, for the worker's):
//
//	{post(msg, transfer)   posts to the other end
//	 queue: [...]          the messages that came before the program took them
//	 receive: null}        set by Open: each message, from then on
type Link struct {
	box js.Value
}

// Open is the link over box.
func Open(box js.Value) *Link { return &Link{box: box} }

// Listen takes the messages of the other end: those queued, then each as
// it comes. receive runs inside a JavaScript callback: it must not block
// (start a goroutine for what waits).
func (l *Link) Listen(receive func(msg js.Value)) {
	box := l.box
	q := box.Get("queue")
	for i := 0; i < q.Length(); i++ {
		receive(q.Index(i))
	}
	box.Set("queue", js.Global().Get("Array").New())
	box.Set("receive", js.FuncOf(func(_ js.Value, args []js.Value) any {
		receive(jsutil.Arg0(args))
		return nil
	}))
}

// Post sends {op, fields…}.
func (l *Link) Post(op string, fields map[string]any) error {
	return l.post(op, fields, nil)
}

// PostData sends {op, data, fields…}, data being a Uint8Array whose
// buffer is transferred.
func (l *Link) PostData(op string, data []byte, fields map[string]any) error {
	u := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(u, data)
	if fields == nil {
		fields = map[string]any{}
	}
	fields["data"] = u
	return l.post(op, fields, []any{u.Get("buffer")})
}

func (l *Link) post(op string, fields map[string]any, transfer []any) error {
	msg := js.Global().Get("Object").New()
	msg.Set("op", op)
	for k, v := range fields {
		msg.Set(k, v)
	}
	return jsutil.Try(func() { l.box.Call("post", msg, js.ValueOf(append([]any{}, transfer...))) })
}

// Data is the bytes of a message's data field (a Uint8Array or an
// ArrayBuffer), or nil.
func Data(msg js.Value) []byte {
	v := msg.Get("data")
	if !v.Truthy() {
		return nil
	}
	return jsutil.BytesFromJS(v)
}

// Op is a message's op, or "".
func Op(msg js.Value) string {
	if msg.Type() != js.TypeObject || msg.Get("op").Type() != js.TypeString {
		return ""
	}
	return msg.Get("op").String()
}
