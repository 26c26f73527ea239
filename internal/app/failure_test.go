package app_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"cifarlab/cpu"
	"cifarlab/internal/app"
	"cifarlab/net"
	"cifarlab/viz"
)

// lost is a backend whose device goes away after a number of submits:
// from then on Submit, Download and reads fail, as a lost GPU does.
type lost struct {
	net.Backend
	submits atomic.Int64
	after   int64
}

var errLost = errors.New("the GPU device is lost (test)")

func (l *lost) gone() bool { return l.submits.Load() > l.after }

func (l *lost) Submit() error {
	l.submits.Add(1)
	if l.gone() {
		return errLost
	}
	return l.Backend.Submit()
}

func (l *lost) Download(dst []float32, src net.Tensor) error {
	if l.gone() {
		return errLost
	}
	return l.Backend.Download(dst, src)
}

func (l *lost) ReadLater(src net.Tensor) func() ([]float32, error) {
	read := l.Backend.ReadLater(src)
	return func() ([]float32, error) {
		if l.gone() {
			return nil, errLost
		}
		return read()
	}
}

func TestBackendLost(t *testing.T) {
	b := &lost{Backend: cpu.New(), after: 8}
	s := app.New(app.Config{Batch: 16})
	s.SetBackend(b, "")
	s.SetData(synthetic(64, 16, 9))
	run(t, s)
	s.Handle(viz.Intent{Kind: viz.Start})
	st := waitFor(t, s, "the failure", func(st app.Status) bool { return st.Error != "" })
	if !strings.Contains(st.Error, errLost.Error()) {
		t.Fatalf("error %q does not say the device is lost", st.Error)
	}
	settle(t, s)
	if st := s.Status(); st.Running {
		t.Errorf("still training after the device was lost")
	}
	// Every intent still gets an answer, and the snapshot stays readable.
	for _, in := range []viz.Intent{{Kind: viz.Start}, {Kind: viz.StepOnce}, {Kind: viz.SelectImage, Image: 2},
		{Kind: viz.Reset}, {Kind: viz.SetModel, Model: "resnet18"}, {Kind: viz.Save}, {Kind: viz.Pause}} {
		s.Handle(in)
		settle(t, s)
		if s.Snapshot() == nil {
			t.Fatal("no snapshot")
		}
	}
	if st := s.Status(); st.Error == "" || st.Running {
		t.Errorf("after more intents on a lost device: %+v", st)
	}
}

// broken is a backend whose convolution panics, as a backend bug would.
type broken struct{ net.Backend }

func (broken) Conv2D(y, x, w, b net.Tensor, g net.ConvGeom) { panic("conv exploded (test)") }

func TestBackendPanics(t *testing.T) {
	s := app.New(app.Config{Batch: 16})
	s.SetBackend(broken{cpu.New()}, "")
	s.SetData(synthetic(64, 16, 10))
	run(t, s)
	settle(t, s)
	if st := s.Status(); !strings.Contains(st.Error, "conv exploded") {
		t.Fatalf("the first inspection's panic: error %q", st.Error)
	}
	s.Handle(viz.Intent{Kind: viz.Start})
	settle(t, s)
	st := waitFor(t, s, "a stop", func(st app.Status) bool { return !st.Running })
	if !strings.Contains(st.Error, "internal error") || !strings.Contains(st.Error, "conv exploded") {
		t.Errorf("error %q", st.Error)
	}
	s.Handle(viz.Intent{Kind: viz.SelectImage, Image: 1})
	settle(t, s)
	if s.Snapshot().Selected != 1 {
		t.Errorf("the session stopped answering after a panic")
	}
}
