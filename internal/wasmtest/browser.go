//go:build !js

package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// browserFlags are Chromium's flags, and no others: chromedp adds only
// --remote-debugging-pipe, a fresh --user-data-dir that it removes afterwards,
// and about:blank. --enable-unsafe-webgpu is what exposes navigator.gpu on
// Linux (there on SwiftShader); the flags that turn off background networking
// keep Chromium from dialling out of a closed network.
var browserFlags = []string{
	"--headless=new",
	"--enable-unsafe-webgpu",
	"--no-sandbox",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--no-first-run",
	"--disable-quic",
}

// allocatorOptions starts cfg.chromium with browserFlags, changed by
// cfg.extraFlags (where --name=false drops a flag), and with
// --disable-dev-shm-usage where /dev/shm is small (64 MiB in a default Docker
// container, where Chromium crashes without it). It also returns the flags.
func allocatorOptions(cfg *config, output io.Writer) ([]chromedp.ExecAllocatorOption, []string, error) {
	flags := append([]string(nil), browserFlags...)
	if shmTooSmall() {
		flags = append(flags, "--disable-dev-shm-usage")
	}
	for _, f := range cfg.extraFlags {
		name, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if !strings.HasPrefix(f, "--") || name == "" {
			return nil, nil, fmt.Errorf("chromium flag %q: want --name, --name=value or --name=false", f)
		}
		// A flag given again replaces the earlier one.
		flags = slices.DeleteFunc(flags, func(g string) bool {
			n, _, _ := strings.Cut(strings.TrimPrefix(g, "--"), "=")
			return n == name
		})
		if !strings.HasSuffix(f, "=false") {
			flags = append(flags, f)
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(cfg.chromium),
		chromedp.CombinedOutput(output),
	}
	for _, f := range flags {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if hasValue {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	return opts, flags, nil
}

// outputTail keeps the last lines of Chromium's output for an error report,
// or copies them at once to a writer (in verbose mode).
type outputTail struct {
	mu    sync.Mutex
	buf   []byte
	limit int
	echo  io.Writer // nil: keep only
	part  []byte    // the unterminated end of what came, for echo
}

func newOutputTail(limit int, echo io.Writer) *outputTail {
	return &outputTail{limit: limit, echo: echo}
}

func (t *outputTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	if t.echo != nil {
		t.part = append(t.part, p...)
		for {
			i := bytes.IndexByte(t.part, '\n')
			if i < 0 {
				break
			}
			fmt.Fprintf(t.echo, "chromium: %s\n", t.part[:i])
			t.part = t.part[i+1:]
		}
	}
	return len(p), nil
}

// String is the kept output from its first whole line, less the complaints
// about a missing D-Bus that Chromium makes in every container.
func (t *outputTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(t.buf)
	if len(t.buf) == t.limit {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	lines := strings.SplitAfter(s, "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.Contains(l, ":ERROR:dbus/") })
	return strings.Join(lines, "")
}
