package app_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"cifarlab/cifar"
	"cifarlab/cpu"
	"cifarlab/internal/app"
)

// synthetic makes a dataset of n training and m test images of random
// pixels whose label is visible in them (a brighter band), so that a
// network can learn something, with ten classes.
func synthetic(n, m int, seed uint64) *cifar.Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	split := func(name string, k int) *cifar.Split {
		recs := make([]byte, k*cifar.RecordSize)
		for i := 0; i < k; i++ {
			r := recs[i*cifar.RecordSize : (i+1)*cifar.RecordSize]
			label := rng.IntN(10)
			r[0] = byte(label)
			for p := 1; p < len(r); p++ {
				r[p] = byte(rng.IntN(200))
				if row := (p - 1) % cifar.PlaneSize / cifar.ImageSize; row/3 == label {
					r[p] += 55
				}
			}
		}
		return &cifar.Split{Name: name, Source: "synthetic " + name, Records: recs}
	}
	return &cifar.Dataset{Classes: append([]string(nil), cifar.CIFAR10Classes...), Train: split("train", n),
		Test: split("test", m), Source: "synthetic"}
}

// start makes a session on the CPU backend with ds, runs it until the test
// ends, and waits until it is ready.
func start(t *testing.T, cfg app.Config, ds *cifar.Dataset) *app.Session {
	t.Helper()
	s := app.New(cfg)
	b := cpu.New()
	s.SetBackend(b, "")
	if ds != nil {
		s.SetData(ds)
	}
	run(t, s)
	if ds != nil {
		waitFor(t, s, "ready", func(st app.Status) bool { return st.Ready })
	}
	return s
}

// run runs s until the test ends.
func run(t *testing.T, s *app.Session) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("Run did not return within 30s of its context ending")
		}
		s.Close()
	})
}

// waitFor polls the status until cond holds, failing after a minute.
func waitFor(t *testing.T, s *app.Session, what string, cond func(app.Status) bool) app.Status {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := s.Status()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: status %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits until the session has carried out every intent sent so
// far and published a snapshot showing them.
func settle(t *testing.T, s *app.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// saveWeights returns the session's weights file.
func saveWeights(t *testing.T, s *app.Session) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data, err := s.SaveWeights(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func cpuBackend() *cpu.Backend { return cpu.New() }
