package app_test

import (
	"context"
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

// BenchmarkSessionLeNet5 measures what live snapshots cost training on the
// CPU backend: LeNet5, batch 64, with the inspected image sent through the
// network and read back never, every 250 ms (the default) and every 50 ms.
// It reports steps per second and the share of the time spent inspecting
// (inspect-%); BENCHMARKS.md has the numbers and the command.
func BenchmarkSessionLeNet5(b *testing.B) {
	const round = 1500 * time.Millisecond
	for _, c := range []struct {
		name  string
		every time.Duration
	}{{"snapshots=off", time.Hour}, {"snapshots=default", app.DefaultInspectEvery}, {"snapshots=50ms", 50 * time.Millisecond}} {
		b.Run(c.name, func(b *testing.B) {
			var rate float64
			var spent time.Duration
			for i := 0; i < b.N; i++ {
				r, in := stepsPerSecond(b, app.Config{Batch: 64, EvalLimit: 64, InspectEvery: c.every}, round)
				rate += r
				spent += in
			}
			b.ReportMetric(rate/float64(b.N), "steps/s")
			b.ReportMetric(100*spent.Seconds()/(float64(b.N)*round.Seconds()), "inspect-%")
		})
	}
}
