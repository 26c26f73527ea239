//go:build !cgo && nofakecgo

// The desktop viewer links ebiten and gogpu/wgpu into one binary, which
// works only with CGO_ENABLED=0 and -tags nofakecgo (make build);
// desktop_stub.go stands in for it in every other build.

package main

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"cifarlab/cpu"
	"cifarlab/internal/app"
	"cifarlab/internal/atomicfile"
	"cifarlab/net"
	"cifarlab/viz"
	"cifarlab/viz/game"
)

// desktopBuilt says that this cifarlab has the desktop viewer.
const desktopBuilt = true

func runDesktop(args []string, stdout, stderr io.Writer) error {
	f, err := parseDesktopFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return desktop(ctx, f, stdout, stderr)
}

// desktop opens the data and the backend, runs the session on goroutines
// of its own and the viewer in a window on this one (ebiten wants the main
// thread), until the window closes, -frames are drawn or ctx ends.
func desktop(ctx context.Context, f *desktopFlags, stdout, stderr io.Writer) error {
	if err := checkDisplay(); err != nil {
		return err
	}
	raw, err := loadDataset(ctx, f.data, stderr)
	if err != nil {
		return err
	}
	ds, err := desktopDataset(raw, f.test, stderr)
	if err != nil {
		return err
	}
	b, err := openDesktopBackend(f, stderr)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	current := b // the backend in use, which may change after a lost GPU
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		current.Close()
	}()

	cfg := f.sessionConfig(statsEvery(b))
	f.keepRuns(&cfg, stderr)
	cfg.Reopen = func(lost error, old net.Backend) (net.Backend, string) {
		fmt.Fprintf(stderr, "the GPU was lost (%v)\n", lost)
		old.Close()
		nb := openAfterLoss(stderr)
		mu.Lock()
		current = nb
		mu.Unlock()
		return nb, ""
	}
	s := app.New(cfg)
	notice := s.SetNotice
	gpuWaitNotice.Store(&notice)
	defer gpuWaitNotice.Store(nil)
	s.SetBackend(b, "")
	s.SetData(ds)
	if f.init != "" {
		s.Handle(viz.Intent{Kind: viz.Load, Path: f.init})
	}
	if f.autostart {
		s.Handle(viz.Intent{Kind: viz.Start})
	}

	snaps := make(chan *viz.Snapshot, 1)
	intents := make(chan viz.Intent, 16)
	g := game.New(viz.New(viz.Options{WeightsPath: f.weights, Gradients: f.view.value == "grads", Evaluation: f.view.value == "eval"}), snaps, intents)
	g.StopAfter(int64(f.frames))

	runCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	goes := func(fn func()) {
		wg.Add(1)
		go func() { defer wg.Done(); fn() }()
	}
	goes(func() { s.Run(runCtx) })
	goes(func() { s.Feed(runCtx, snaps) })
	goes(func() { s.Serve(runCtx, intents) })
	goes(func() { // Ctrl-C closes the window
		select {
		case <-ctx.Done():
			g.Stop()
		case <-runCtx.Done():
		}
	})
	meter := newFPSMeter(s)
	goes(func() { meter.run(runCtx, g) })

	start := time.Now()
	runErr := game.Run(g, "cifarlab desktop")
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	st := s.Status()
	s.Close() // the network and the data, before the backend (deferred above)

	if runErr != nil {
		return fmt.Errorf("open the window: %w (the desktop viewer needs a display: an X server, or xvfb-run)", runErr)
	}
	var shotErr error
	if f.screenshot != "" {
		shotErr = saveScreenshot(f.screenshot, g)
	}
	report(stdout, g.Frames(), elapsed, meter.result(), st)
	if st.Error != "" {
		fmt.Fprintf(stderr, "the session's last error: %s\n", st.Error)
	}
	if shotErr != nil {
		return shotErr
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "interrupted")
		return errInterrupted
	}
	return nil
}

// checkDisplay fails early, before the data is read, where ebiten could
// open no window: on X11 systems without $DISPLAY.
func checkDisplay() error {
	switch runtime.GOOS {
	case "linux", "freebsd", "netbsd", "openbsd", "dragonfly":
		if os.Getenv("DISPLAY") == "" {
			return errors.New("no display: $DISPLAY is not set (the desktop viewer needs an X server; without one, run it under xvfb-run)")
		}
	}
	return nil
}

// openDesktopBackend opens -device's backend; the CPU backend trains on
// -threads goroutines, by default leaving a core to the window.
func openDesktopBackend(f *desktopFlags, stderr io.Writer) (net.Backend, error) {
	if f.device.value == "cpu" {
		b := cpu.NewWithThreads(f.threads)
		fmt.Fprintf(stderr, "device: %s\n", b.Name())
		return b, nil
	}
	b, err := openBackend(f.device.value, stderr)
	if err != nil {
		return nil, err
	}
	if c, ok := b.(*cpu.Backend); ok && c.Threads() != f.threads {
		c.Close()
		b = cpu.NewWithThreads(f.threads)
		fmt.Fprintf(stderr, "device: %s, leaving the window the rest of the %d cores\n", b.Name(), runtime.NumCPU())
	}
	return b, nil
}

// saveScreenshot writes the game's last frame as a PNG.
func saveScreenshot(path string, g *game.Game) error {
	err := atomicfile.WriteFile(path, func(w io.Writer) error { return png.Encode(w, g.Screenshot()) })
	if err != nil {
		return fmt.Errorf("-screenshot: %w", err)
	}
	return nil
}

// fpsMeter samples ebiten.ActualFPS once a second while the session
// trains, after a second of warming up.
type fpsMeter struct {
	s *app.Session

	mu        sync.Mutex
	samples   []float64 // while training
	last      float64   // the last sample, training or not
	trainedAt time.Time // when training was first seen
}

// fpsResult is what the meter saw.
type fpsResult struct {
	mean, min, last float64
	samples         int
}

func newFPSMeter(s *app.Session) *fpsMeter { return &fpsMeter{s: s} }

func (m *fpsMeter) run(ctx context.Context, g *game.Game) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fps := ebiten.ActualFPS()
		running := m.s.Status().Running
		m.mu.Lock()
		m.last = fps
		switch {
		case !running:
		case m.trainedAt.IsZero():
			m.trainedAt = time.Now()
		case g.Frames() > 0 && time.Since(m.trainedAt) > time.Second:
			m.samples = append(m.samples, fps)
		}
		m.mu.Unlock()
	}
}

func (m *fpsMeter) result() fpsResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := fpsResult{last: m.last, samples: len(m.samples)}
	for i, v := range m.samples {
		r.mean += v / float64(len(m.samples))
		if i == 0 || v < r.min {
			r.min = v
		}
	}
	return r
}

// report prints the frame rate and where training got to.
func report(w io.Writer, frames int64, elapsed time.Duration, fps fpsResult, st app.Status) {
	fmt.Fprintf(w, "desktop: %d frames in %.1f s (%.1f frames/s); ebiten.ActualFPS %.1f at exit", frames, elapsed.Seconds(),
		float64(frames)/elapsed.Seconds(), fps.last)
	if fps.samples > 0 {
		fmt.Fprintf(w, ", %.1f on average while training (lowest %.1f, %d samples)", fps.mean, fps.min, fps.samples)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "desktop: %s on %s: step %d, epoch %d (%.0f%% done)", st.Model, st.Backend, st.Step, st.Epoch, 100*st.EpochProgress)
	if st.Step > 0 {
		fmt.Fprintf(w, ", loss %.4f, %.0f images/s", st.Loss, st.ImagesPerSec)
	}
	if st.TestAccuracy == st.TestAccuracy { // not NaN
		fmt.Fprintf(w, ", test accuracy %.2f%%", 100*st.TestAccuracy)
	}
	fmt.Fprintln(w)
}
