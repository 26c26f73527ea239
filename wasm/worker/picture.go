//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"fmt"
	"syscall/js"

	"cifarlab/cifar"
	"cifarlab/internal/jsutil"
	"cifarlab/viz"
)

// A file given to the page (dropped, pasted, picked) is a picture to
// inspect or a dataset to train on, told apart by its first bytes.

// sniffSize is how much of a file tells what it is: a tar header's magic
// is at byte 257.
const sniffSize = 512

// fileKind is what a file given to the page is.
type fileKind int

const (
	notOurs fileKind = iota
	pictureFile
	datasetFile
)

// kindOf tells a file's kind from its first bytes and its size.
func kindOf(head []byte, size int) fileKind {
	switch {
	case cifar.IsImage(head):
		return pictureFile
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}), // gzip
		len(head) >= 262 && string(head[257:262]) == "ustar", // tar
		size > 0 && size%cifar.RecordSize == 0:               // CIFAR binary records
		return datasetFile
	}
	return notOurs
}

// takeFile reads enough of a file to tell what it is, then inspects it as
// a picture or loads it as a dataset; anything else is a clear error. Call
// it on a goroutine: it waits on the file.
func (h *host) takeFile(file js.Value) {
	name, size := file.Get("name").String(), file.Get("size").Int()
	head, err := jsutil.Await(context.Background(), file.Call("slice", 0, sniffSize).Call("arrayBuffer"))
	if err != nil {
		h.board.setError(errFile, fmt.Errorf("read %s: %w", name, err))
		return
	}
	switch kindOf(jsutil.BytesFromJS(head), size) {
	case pictureFile:
		h.takePicture(file, name)
	case datasetFile:
		h.loadDatasetFile(file)
	default:
		h.board.setError(errFile, fmt.Errorf("%s is neither a picture (PNG, JPEG, GIF or WebP) nor a dataset (CIFAR-10's .tar.gz, a .bin of records, or a .tar/.tar.gz of train/<class>/ and test/<class>/ images)", name))
	}
}

// takePicture reads a picture's file and inspects it.
func (h *host) takePicture(file js.Value, name string) {
	buf, err := jsutil.Await(context.Background(), file.Call("arrayBuffer"))
	if err != nil {
		h.board.setError(errFile, fmt.Errorf("read %s: %w", name, err))
		return
	}
	h.board.setError(errFile, nil)
	h.handle(viz.Intent{Kind: viz.InspectPicture, Data: jsutil.BytesFromJS(buf), Path: name}, 0)
}
