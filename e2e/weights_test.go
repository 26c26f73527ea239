package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"cifarlab/net"
)

// TestSaveLoadWeights trains a few steps, saves the weights (the page
// downloads them), resets the network, loads the saved file back and saves
// again: the last file holds the first's weights, the reset's do not.
func TestSaveLoadWeights(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	downloads := b.allowDownloads()
	b.navigate(srv.url + "?model=lenet5&limit=32&batch=16&eval=16")
	b.waitFor("the page to be ready", 2*time.Minute, false, func(s status) bool { return s.Ready }, nil)
	for i := 1; i <= 2; i++ {
		eval[any](b, "globalThis.cifarlab.step()")
		b.waitFor(fmt.Sprintf("step %d", i), time.Minute, false, func(s status) bool { return s.Step >= i }, nil)
	}

	trained := downloads.save(b)
	eval[any](b, "globalThis.cifarlab.reset()")
	fresh := downloads.save(b)
	eval[any](b, fmt.Sprintf(`globalThis.cifarlab.loadWeights(Uint8Array.from(atob(%q), (c) => c.charCodeAt(0)), "trained.safetensors")`,
		base64.StdEncoding.EncodeToString(trained)))
	st := b.waitFor("the weights loaded", time.Minute, false, func(s status) bool { return strings.Contains(s.Notice, "loaded trained.safetensors") }, nil)
	t.Logf("after loading: %v", st)
	loaded := downloads.save(b)

	w := decodeWeights(t, "the trained weights", trained)
	if w.Model != "lenet5" || len(w.Entries) == 0 {
		t.Fatalf("the trained weights: model %q, %d tensors; want lenet5's", w.Model, len(w.Entries))
	}
	if reflect.DeepEqual(w.Entries, decodeWeights(t, "the reset weights", fresh).Entries) {
		t.Errorf("the weights after reset() are the trained ones")
	}
	if got := decodeWeights(t, "the loaded weights", loaded); !reflect.DeepEqual(w.Entries, got.Entries) {
		t.Errorf("the weights saved after loading differ from those loaded")
	}

	// A file that is not the weights of this network: an error naming it,
	// on the page and in status(), and the weights stay as they were.
	for _, bad := range []struct{ name, js, want string }{
		{"junk.safetensors", `new TextEncoder().encode("not a safetensors file")`, "junk.safetensors"},
		{"half.safetensors", fmt.Sprintf(`Uint8Array.from(atob(%q), (c) => c.charCodeAt(0))`,
			base64.StdEncoding.EncodeToString(trained[:len(trained)/2])), "half.safetensors"},
	} {
		eval[any](b, fmt.Sprintf(`globalThis.cifarlab.loadWeights(%s, %q)`, bad.js, bad.name))
		st := b.waitFor("the error about "+bad.name, time.Minute, true, func(s status) bool { return strings.Contains(s.Error, bad.want) }, nil)
		t.Logf("%s: the page's error: %s", bad.name, st.Error)
		checkErrorShown(t, b, bad.want)
		if got := decodeWeights(t, "the weights after "+bad.name, downloads.save(b)); !reflect.DeepEqual(w.Entries, got.Entries) {
			t.Errorf("%s changed the weights", bad.name)
		}
	}
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
}

func decodeWeights(t *testing.T, what string, data []byte) *net.Weights {
	t.Helper()
	w, err := net.DecodeWeights(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return w
}

// downloads is the folder Chromium downloads into.
type downloads struct{ dir string }

// allowDownloads lets the page download into a temporary folder, naming
// each file by its download's id.
func (b *browser) allowDownloads() downloads {
	b.t.Helper()
	d := downloads{dir: b.t.TempDir()}
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: d.dir, EventsEnabled: new(true),
	}); err != nil {
		b.t.Fatalf("allow downloads: %v", err)
	}
	return d
}

// save calls window.cifarlab.save() and returns the file the page
// downloads, which window.cifarlab.saved describes.
func (d downloads) save(b *browser) []byte {
	b.t.Helper()
	return d.take(b, "globalThis.cifarlab.save()", ".safetensors")
}

// take evaluates call and returns the file the page downloads, whose name
// (as window.cifarlab.saved has it) ends in suffix.
func (d downloads) take(b *browser, call, suffix string) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	events := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadProgress)
	eval[any](b, call)
	for ev, err := range events {
		if err != nil {
			b.t.Fatalf("waiting for the download of %s: %v", call, err)
		}
		switch ev.State {
		case cdpbrowser.DownloadProgressStateCompleted:
			data, err := os.ReadFile(filepath.Join(d.dir, ev.GUID))
			if err != nil {
				b.t.Fatalf("the download of %s: %v", call, err)
			}
			saved := eval[struct {
				Name string `json:"name"`
				Size int    `json:"size"`
			}](b, "globalThis.cifarlab.saved")
			if saved.Size != len(data) || !strings.HasSuffix(saved.Name, suffix) {
				b.t.Errorf("cifarlab.saved: %+v; the download has %d bytes", saved, len(data))
			}
			return data
		case cdpbrowser.DownloadProgressStateCanceled:
			b.t.Fatalf("the download of %s was cancelled", call)
		}
	}
	b.t.Fatalf("no download after %s", call)
	return nil
}
