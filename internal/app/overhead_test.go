package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cifarlab/internal/app"
	"cifarlab/viz"
)

// stepsPerSecond trains a fresh session for d (after a warm-up) and
// returns its steps per second and the time it spent inspecting.
func stepsPerSecond(t testing.TB, cfg app.Config, d time.Duration) (float64, time.Duration) {
	s := app.New(cfg)
	s.SetBackend(cpuBackend(), "")
	s.SetData(synthetic(4096, 256, 11))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done; s.Close() }()
	s.Handle(viz.Intent{Kind: viz.Start})
	for s.Status().Step < 5 {
		time.Sleep(time.Millisecond)
	}
	step0, t0, in0 := s.Status().Step, time.Now(), s.InspectTime()
	time.Sleep(d)
	step1, t1, in1 := s.Status().Step, time.Now(), s.InspectTime()
	return float64(step1-step0) / t1.Sub(t0).Seconds(), in1 - in0
}

// TestSnapshotOverhead measures what live snapshots cost training on the
// CPU backend: LeNet5, batch 64, with the inspected image sent through the
// network and read back every 250 ms (the default) against never. It
// prints the two speeds and the share of the time spent on snapshots, which
// must stay under 10%.
func TestSnapshotOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	const round = 1500 * time.Millisecond
	base := app.Config{Batch: 64, EvalLimit: 64}
	off := base
	off.InspectEvery = time.Hour
	var bestOff, bestOn float64
	var spent time.Duration
	for i := 0; i < 2; i++ { // alternate, keeping the best of each
		r, _ := stepsPerSecond(t, off, round)
		bestOff = max(bestOff, r)
		r, in := stepsPerSecond(t, base, round)
		if r > bestOn {
			bestOn, spent = r, in
		}
	}
	share := spent.Seconds() / round.Seconds()
	msg := fmt.Sprintf("LeNet5 batch 64 on the CPU: %.1f steps/s without snapshots, %.1f with (every %v) (%+.1f%%); snapshots took %.2f%% of the time",
		bestOff, bestOn, app.DefaultInspectEvery, 100*(bestOn/bestOff-1), 100*share)
	t.Log(msg)
	fmt.Println(msg)
	if share > 0.10 {
		t.Errorf("snapshots take %.1f%% of the training time, want under 10%%", 100*share)
	}
}

// BenchmarkSessionLeNet5 reports training steps per second of a session
// with and without live snapshots.
func BenchmarkSessionLeNet5(b *testing.B) {
	for _, c := range []struct {
		name  string
		every time.Duration
	}{{"snapshots=off", time.Hour}, {"snapshots=default", app.DefaultInspectEvery}, {"snapshots=50ms", 50 * time.Millisecond}} {
		b.Run(c.name, func(b *testing.B) {
			var rate float64
			for i := 0; i < b.N; i++ {
				rate, _ = stepsPerSecond(b, app.Config{Batch: 64, InspectEvery: c.every}, time.Second)
			}
			b.ReportMetric(rate, "steps/s")
		})
	}
}
