//go:build !js

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// bindingName is the page's function that sends a message to wasmtest.
const bindingName = "__wasmtest"

// shutdownGrace bounds the start of Chromium beyond cfg.timeout, and the
// look at an unresponsive page after a timeout.
const shutdownGrace = 15 * time.Second

// message is what the page sends through the binding (see page/run.js).
type message struct {
	Type string `json:"type"` // write, exit, started, webgpu, error

	FD   int    `json:"fd"`   // write
	Data string `json:"data"` // write: base64

	Code int `json:"code"` // exit

	Message string `json:"message"` // error

	// webgpu
	OK           bool   `json:"ok"`
	Reason       string `json:"reason"`
	Vendor       string `json:"vendor"`
	Architecture string `json:"architecture"`
	Device       string `json:"device"`
	Description  string `json:"description"`
	Fallback     bool   `json:"fallback"`
}

// startConfig is the argument of wasmtestStart in page/run.js.
type startConfig struct {
	Wasm          string            `json:"wasm"`
	Argv          []string          `json:"argv"`
	Env           map[string]string `json:"env"`
	CheckWebGPU   bool              `json:"checkWebGPU"`
	RequireWebGPU bool              `json:"requireWebGPU"`
}

// session is one run of a program in a page.
type session struct {
	cfg            *config
	stdout, stderr io.Writer
	chromium       *outputTail
	start          time.Time
}

// runProgram runs cfg's program in a fresh Chromium and returns its exit
// status, or an error when it could not run to its end.
func runProgram(cfg *config, stdout, stderr io.Writer) (int, error) {
	s := &session{cfg: cfg, stdout: stdout, stderr: stderr, start: time.Now()}
	var echo io.Writer
	if cfg.verbose {
		echo = stderr
	}
	s.chromium = newOutputTail(16<<10, echo)

	srv, err := startServer(cfg.binary, cfg.wasmExec)
	if err != nil {
		return 0, err
	}
	defer srv.Close()

	opts, flags, err := allocatorOptions(cfg, s.chromium)
	if err != nil {
		return 0, err
	}
	s.logf("chromium: %s %s", cfg.chromium, strings.Join(flags, " "))

	// The hard limit: nothing, not even a hung start of Chromium, outlives it.
	// Cancelling it kills Chromium; chromedp then removes its profile.
	hardCtx, hardCancel := context.WithTimeout(context.Background(), cfg.timeout+shutdownGrace)
	defer hardCancel()
	allocCtx, allocCancel := chromedp.NewExecAllocator(hardCtx, opts...)
	defer allocCancel() // waits for Chromium to exit and its profile to go
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT)
	defer signal.Stop(signals)

	events := newEventQueue()
	// The first call starts Chromium and opens the tab.
	if err := chromedp.Listen(ctx, events.push); err != nil {
		return 0, s.withChromiumOutput(fmt.Errorf("start Chromium (%s): %w", cfg.chromium, err))
	}
	s.logf("Chromium started in %v", time.Since(s.start).Round(time.Millisecond))
	if _, err := chromedp.Call(ctx, runtime.AddBinding, runtime.AddBindingParams{Name: bindingName}); err != nil {
		return 0, s.withChromiumOutput(fmt.Errorf("add binding: %w", err))
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL())); err != nil {
		return 0, s.withChromiumOutput(fmt.Errorf("load %s: %w", srv.URL(), err))
	}
	s.logf("page loaded at %v", time.Since(s.start).Round(time.Millisecond))
	start, err := json.Marshal(s.startConfig())
	if err != nil {
		return 0, err
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("void wasmtestStart("+string(start)+")")); err != nil {
		return 0, s.withChromiumOutput(fmt.Errorf("start the program in the page: %w", err))
	}
	detached, err := chromedp.Detached(ctx)
	if err != nil {
		return 0, err
	}

	deadline := time.NewTimer(time.Until(s.start.Add(cfg.timeout)))
	defer deadline.Stop()
	for {
		select {
		case <-events.ready:
			for _, ev := range events.take() {
				if code, done, err := s.handle(ev); done || err != nil {
					return code, err
				}
			}
		case <-detached:
			s.drain(events)
			return 0, s.withChromiumOutput(errors.New("the page closed before the program exited"))
		case sig := <-signals:
			s.drain(events)
			return 0, fmt.Errorf("stopped by %v before the program exited", sig)
		case <-deadline.C:
			s.drain(events)
			return 0, fmt.Errorf("timed out after %v: %s (set -timeout or WASMTEST_TIMEOUT)", cfg.timeout, s.pageState(ctx))
		case <-ctx.Done():
			s.drain(events)
			if hardCtx.Err() != nil {
				return 0, fmt.Errorf("timed out after %v", cfg.timeout)
			}
			// A call on the dead browser reports how its process ended.
			_, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1"))
			return 0, s.withChromiumOutput(fmt.Errorf("lost Chromium before the program exited: %v", err))
		}
	}
}

func (s *session) startConfig() startConfig {
	env := make(map[string]string, len(s.cfg.env))
	for _, kv := range s.cfg.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return startConfig{
		Wasm:          wasmPath,
		Argv:          append([]string{s.cfg.binary}, s.cfg.args...),
		Env:           env,
		CheckWebGPU:   s.cfg.checkWebGPU,
		RequireWebGPU: s.cfg.needWebGPU,
	}
}

// handle reports one event of the page. done is true once the program exited
// with code; err ends the run as a failure of the harness.
func (s *session) handle(ev any) (code int, done bool, err error) {
	switch ev := ev.(type) {
	case *runtime.EventBindingCalled:
		var m message
		if err := json.Unmarshal([]byte(ev.Payload), &m); err != nil {
			return 0, false, fmt.Errorf("bad message from the page: %w", err)
		}
		return s.handleMessage(&m)
	case *runtime.EventConsoleAPICalled:
		fmt.Fprintf(s.stderr, "console.%s: %s\n", ev.Type, consoleText(ev.Args))
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelVerbose || s.cfg.verbose {
			fmt.Fprintf(s.stderr, "browser %s %s: %s%s\n", e.Source, e.Level, e.Text, where(e.URL, e.LineNumber))
		}
	case *runtime.EventExceptionThrown:
		return 0, false, fmt.Errorf("uncaught exception in the page: %s", exceptionText(ev.ExceptionDetails))
	case *inspector.EventTargetCrashed:
		return 0, false, s.withChromiumOutput(errors.New("the page's renderer process died (a crash, a kill, or out of memory)"))
	}
	return 0, false, nil
}

func (s *session) handleMessage(m *message) (code int, done bool, err error) {
	switch m.Type {
	case "write":
		data, err := base64.StdEncoding.DecodeString(m.Data)
		if err != nil {
			return 0, false, fmt.Errorf("bad write from the page: %w", err)
		}
		w := s.stdout
		if m.FD != 1 {
			w = s.stderr
		}
		if _, err := w.Write(data); err != nil {
			return 0, false, fmt.Errorf("copy the program's output: %w", err)
		}
	case "webgpu":
		if !m.OK {
			if s.cfg.needWebGPU {
				return 0, false, fmt.Errorf("WebGPU is required (CIFARLAB_REQUIRE=webgpu or -require-webgpu) and unavailable: %s", m.Reason)
			}
			s.logf("no WebGPU: %s", m.Reason)
			break
		}
		s.logf("WebGPU adapter: vendor=%q architecture=%q device=%q description=%q fallback=%v",
			m.Vendor, m.Architecture, m.Device, m.Description, m.Fallback)
	case "started":
		s.logf("program instantiated at %v", time.Since(s.start).Round(time.Millisecond))
	case "exit":
		s.logf("program exited with status %d after %v", m.Code, time.Since(s.start).Round(time.Millisecond))
		return m.Code, true, nil
	case "error":
		return 0, false, fmt.Errorf("the page could not run the program: %s", m.Message)
	default:
		return 0, false, fmt.Errorf("unknown message %q from the page", m.Type)
	}
	return 0, false, nil
}

// drain reports what the page sent before the run ended, ignoring further
// failures: the run has failed already.
func (s *session) drain(q *eventQueue) {
	for _, ev := range q.take() {
		if _, done, err := s.handle(ev); done {
			return
		} else if err != nil {
			fmt.Fprintf(s.stderr, "wasmtest: %v\n", err)
		}
	}
}

// pageState tells a busy page (a Go loop that never yields to JavaScript)
// from an idle one (the program waits for an event that never comes).
func (s *session) pageState(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1")); err != nil {
		return "the page does not answer: the program runs without yielding to JavaScript"
	}
	return "the page is idle: the program waits for something (a promise, a callback, a channel) that never comes"
}

// withChromiumOutput adds the end of Chromium's own output to err, unless
// verbose mode printed it already.
func (s *session) withChromiumOutput(err error) error {
	out := strings.TrimSpace(s.chromium.String())
	if s.cfg.verbose || out == "" {
		return err
	}
	return fmt.Errorf("%w\nChromium's output ended with:\n%s", err, out)
}

func (s *session) logf(format string, args ...any) {
	if s.cfg.verbose {
		fmt.Fprintf(s.stderr, "wasmtest: "+format+"\n", args...)
	}
}

// eventQueue keeps the page's events, in order, from chromedp's reading
// goroutine (which must not block) until the run loop takes them.
type eventQueue struct {
	mu     sync.Mutex
	events []any
	ready  chan struct{}
}

func newEventQueue() *eventQueue {
	return &eventQueue{ready: make(chan struct{}, 1)}
}

func (q *eventQueue) push(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventBindingCalled:
		if ev.Name != bindingName {
			return
		}
	case *runtime.EventConsoleAPICalled, *runtime.EventExceptionThrown,
		*log.EventEntryAdded, *inspector.EventTargetCrashed:
	default:
		return
	}
	q.mu.Lock()
	q.events = append(q.events, ev)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *eventQueue) take() []any {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.events
	q.events = nil
	return evs
}

// consoleText renders the arguments of a console call: strings as they are,
// other values by their description.
func consoleText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, remoteText(a))
	}
	return strings.Join(parts, " ")
}

func remoteText(a *runtime.RemoteObject) string {
	if a == nil {
		return "undefined"
	}
	if a.Type == runtime.RemoteObjectTypeString {
		var s string
		if json.Unmarshal(a.Value, &s) == nil {
			return s
		}
	}
	switch {
	case a.Description != "":
		return a.Description
	case a.UnserializableValue != "":
		return string(a.UnserializableValue)
	case len(a.Value) > 0:
		return string(a.Value)
	}
	return string(a.Type)
}

// exceptionText is the message and stack of an uncaught exception.
func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	text := d.Text
	if d.Exception != nil {
		// The description of an Error holds its message and its stack.
		text += " " + remoteText(d.Exception)
	} else if d.StackTrace != nil {
		for _, f := range d.StackTrace.CallFrames {
			text += fmt.Sprintf("\n    at %s (%s:%d:%d)", f.FunctionName, f.URL, f.LineNumber+1, f.ColumnNumber+1)
		}
	}
	return text + where(d.URL, d.LineNumber)
}

func where(url string, line int64) string {
	if url == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", url, line+1)
}
