//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"math"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"cifarlab/cifar"
	"cifarlab/internal/app"
	"cifarlab/internal/jsutil"
	"cifarlab/net"
)

// These tests run in headless Chromium (internal/wasmtest):
//
//	go build -o bin/wasmtest ./internal/wasmtest
//	GOOS=js GOARCH=wasm go test -exec "$PWD/bin/wasmtest" ./wasm

func TestParams(t *testing.T) {
	p, err := parseParams("?model=resnet18&lr=0.003&batch=64&limit=500&eval=200&autostart=1&device=cpu&inspect=0")
	if err != nil {
		t.Fatal(err)
	}
	want := params{model: "resnet18", lr: 0.003, batch: 64, limit: 500, eval: 200, autostart: true, device: "cpu", inspect: 0}
	if p != want {
		t.Errorf("got %+v, want %+v", p, want)
	}
	for _, m := range []string{"resnet20", "plain56-nobn", "resnet18-plain"} {
		if p, err = parseParams("model=" + m); err != nil || p.model != m {
			t.Errorf("model=%s: %+v, %v", m, p, err)
		}
	}
	if _, err = parseParams("model=lenet5-nobn"); err == nil {
		t.Errorf("model=lenet5-nobn (LeNet5 has no BatchNorm) accepted")
	}
	for _, v := range []string{"maps", "grads", "eval"} {
		if _, err = parseParams("view=" + v); err != nil {
			t.Errorf("view=%s: %v", v, err)
		}
	}
	if _, err = parseParams("view=weights"); err == nil || !strings.Contains(err.Error(), "view=") {
		t.Errorf("view=weights: %v", err)
	}
	for q, want := range map[string]string{
		"experiment=shortcuts":               "resnet20-nobn",
		"experiment=shortcuts&depth=56":      "resnet56-nobn",
		"experiment=shortcuts&depth=18&bn=1": "resnet18",
	} {
		if p, err = parseParams(q); err != nil || p.experiment != want {
			t.Errorf("%s: %+v, %v; want experiment %s", q, p, err, want)
		}
	}
	for _, q := range []string{"experiment=depth", "experiment=shortcuts&depth=32", "experiment=shortcuts&bn=maybe", "depth=20"} {
		if _, err = parseParams(q); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
	if p, err = parseParams("device=gpu"); err != nil || p.device != "gpu" {
		t.Errorf("device=gpu: %+v, %v", p, err)
	}
	p, err = parseParams("")
	if err != nil || p != (params{model: "lenet5", inspect: -1, device: "auto"}) {
		t.Errorf("no parameters: %+v, %v", p, err)
	}
	p, err = parseParams("model=vgg&lr=-1&batch=x&limit=-3&autostart=maybe&device=tpu&batch=1000000")
	for _, name := range []string{"model=", "lr=", "batch=", "limit=", "autostart=", "device="} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("bad %s: error %v", name, err)
		}
	}
	if p.model != "lenet5" || p.lr != 0 || p.batch != 0 || p.limit != 0 || p.autostart || p.device != "auto" {
		t.Errorf("bad values should leave the defaults: %+v", p)
	}
}

// records makes n CIFAR records with labels i%10.
func records(n int) []byte {
	b := make([]byte, n*cifar.RecordSize)
	for i := 0; i < n; i++ {
		b[i*cifar.RecordSize] = byte(i % 10)
		for j := 1; j < cifar.RecordSize; j++ {
			b[i*cifar.RecordSize+j] = byte(i + j)
		}
	}
	return b
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	st, err := openStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.clear(ctx); err != nil {
		t.Fatal(err)
	}
	if ds, err := st.load(ctx, "server-abc"); ds != nil || err != nil {
		t.Fatalf("an empty store gives %v, %v", ds, err)
	}
	ds := &cifar.Dataset{Classes: cifar.CIFAR10Classes, Source: "test source",
		Train: &cifar.Split{Records: records(30)}, Test: &cifar.Split{Records: records(7)}}
	if err := st.save(ctx, "server-abc", ds); err != nil {
		t.Fatal(err)
	}
	got, err := st.load(ctx, "server-abc")
	if err != nil || got == nil {
		t.Fatalf("load: %v, %v", got, err)
	}
	if got.Source != "test source" || len(got.Classes) != 10 || !bytes.Equal(got.Train.Records, ds.Train.Records) ||
		!bytes.Equal(got.Test.Records, ds.Test.Records) {
		t.Errorf("loaded %s with %d classes, %d and %d records", got.Source, len(got.Classes), got.Train.Len(), got.Test.Len())
	}
	if other, _ := st.load(ctx, "server-other"); other != nil {
		t.Errorf("another ID loads a dataset")
	}

	// Saving another replaces it; a single .bin (Only) has no test split.
	file := &cifar.Dataset{Classes: cifar.CIFAR10Classes, Source: "a.bin", Only: &cifar.Split{Records: records(3)}}
	if err := st.save(ctx, fileID("a.bin", 9219), file); err != nil {
		t.Fatal(err)
	}
	if old, _ := st.load(ctx, "server-abc"); old != nil {
		t.Errorf("the earlier dataset is still stored")
	}
	got, err = st.load(ctx, fileID("a.bin", 9219))
	if err != nil || got == nil || got.Train.Len() != 3 || got.Test != nil {
		t.Fatalf("the .bin: %+v, %v", got, err)
	}

	// A dataset whose meta.json is missing (an interrupted save) is not
	// stored.
	if _, err := jsutil.Await(ctx, st.cache.Call("delete", storeURL(fileID("a.bin", 9219), "meta.json"))); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.load(ctx, fileID("a.bin", 9219)); got != nil {
		t.Errorf("a dataset without meta.json loads")
	}

	if id := st.lastUsed(ctx); id != "" {
		t.Errorf("lastUsed before one: %q", id)
	}
	if err := st.setLastUsed(ctx, "file-x-1"); err != nil {
		t.Fatal(err)
	}
	if id := st.lastUsed(ctx); id != "file-x-1" {
		t.Errorf("lastUsed: %q", id)
	}
}

// blobURL serves data at a blob: URL, which fetch reads like any other.
func blobURL(data []byte) string {
	blob := js.Global().Get("Blob").New([]any{jsutil.BytesToJS(data)})
	return js.Global().Get("URL").Call("createObjectURL", blob).String()
}

func TestDownload(t *testing.T) {
	data := records(100)
	var calls, last int
	got, err := download(context.Background(), blobURL(data), len(data), func(done int) {
		calls++
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		last = done
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) || calls == 0 || last != len(data) {
		t.Errorf("got %d bytes in %d progress calls ending at %d", len(got), calls, last)
	}
	if _, err := download(context.Background(), blobURL(data), len(data)-1, func(int) {}); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("a body longer than announced: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := download(ctx, "http://127.0.0.1:1/nothing", 0, func(int) {}); err == nil {
		t.Errorf("an unreachable server gives no error")
	}
}

func TestParseDataset(t *testing.T) {
	ds, err := parseDataset("a.bin", records(12))
	if err != nil || ds.Train == nil || ds.Train.Len() != 12 || ds.Only != nil || len(ds.Classes) != 10 {
		t.Fatalf("a .bin: %+v, %v", ds, err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"short.bin", records(2)[:5000], "not a multiple"},
		{"notes.txt", []byte("hello"), "not a recognised dataset"},
		{"broken.tar.gz", []byte{0x1f, 0x8b, 1, 2, 3}, "broken.tar.gz"},
	} {
		if _, err := parseDataset(c.name, c.data); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestStatusJSON(t *testing.T) {
	o := js.Global().Get("JSON").Call("parse", statusJSON(app.Status{Backend: "cpu (1 thread)", Model: "lenet5", Step: 7, Epoch: 2, Loss: 1.5,
		TestAccuracy: math.NaN(), TestLoss: math.NaN(), ImagesPerSec: 30, Error: "boom", Running: true,
		Confusion: [][]int{{1, 2}, {0, 3}}, PerClassAccuracy: []float64{1.0 / 3, math.NaN()}}))
	for name, want := range map[string]any{"backend": "cpu (1 thread)", "model": "lenet5", "step": 7, "epoch": 2,
		"loss": 1.5, "imagesPerSec": 30, "error": "boom", "running": true} {
		if got := o.Get(name); !got.Equal(js.ValueOf(want)) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"testAccuracy", "testLoss", "twin"} {
		if v := o.Get(name); name != "twin" && !v.IsNull() || name == "twin" && v.String() != "" {
			t.Errorf("%s: %v", name, v)
		}
	}
	if c := o.Get("confusion"); c.Length() != 2 || c.Index(1).Index(1).Int() != 3 {
		t.Errorf("confusion %v", c)
	}
	if p := o.Get("perClassAccuracy"); p.Length() != 2 || p.Index(0).Float() != 1.0/3 || !p.Index(1).IsNull() {
		t.Errorf("per-class accuracy %v (a class without images is null)", p)
	}
	if line := statusLine(app.Status{Backend: "cpu", Model: "lenet5", Ready: true, Epoch: 1, Step: 3, Loss: 2.25,
		TestAccuracy: math.NaN(), Running: true, ImagesPerSec: 99}); line != "cpu · lenet5 · epoch 1 (0%) · step 3 · loss 2.250 · 99 images/s" {
		t.Errorf("status line %q", line)
	}
}

// TestYielding: the CPU fallback's backend computes what the CPU backend
// does and lets the event loop run (a timer set before a long run of ops
// fires during it).
func TestYielding(t *testing.T) {
	y := newCPU().(*yielding)
	y.every = time.Millisecond
	fired := make(chan struct{})
	cb := js.FuncOf(func(js.Value, []js.Value) any { close(fired); return nil })
	defer cb.Release()
	js.Global().Call("setTimeout", cb, 0)
	x := y.NewTensor(net.Shape{8, 3, 32, 32})
	w := y.NewTensor(net.Shape{16, 3, 5, 5})
	b := y.NewTensor(net.Shape{16})
	out := y.NewTensor(net.Shape{8, 16, 28, 28})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		y.Conv2D(out, x, w, b, net.ConvGeom{Stride: 1})
		select {
		case <-fired:
			return
		default:
		}
	}
	t.Fatal("the event loop never ran while the backend computed")
}
