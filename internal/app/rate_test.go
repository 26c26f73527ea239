package app

import (
	"math"
	"testing"
	"time"
)

// TestRateMeter feeds the meter step results as a GPU backend delivers
// them, in bursts read back together, and checks the rate it reports.
func TestRateMeter(t *testing.T) {
	var m rateMeter
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	// A burst of 4 steps of 32 images, a microsecond apart: no rate yet.
	for i := range 4 {
		m.add(at(time.Duration(i)*time.Microsecond), 32)
	}
	if v := m.value(); v != 0 {
		t.Fatalf("rate %v after one burst, want 0 (unknown)", v)
	}
	// The next burst 1 s later: 4×32 images in 1 s since the first result.
	for i := range 4 {
		m.add(at(time.Second+time.Duration(i)*time.Microsecond), 32)
	}
	if v, want := m.value(), 7*32/1.000003; math.Abs(v-want) > 0.01 {
		t.Errorf("rate %v after two bursts 1 s apart, want %v", v, want)
	}
	// Steady steps of 64 images every 100 ms for 10 s: the window keeps
	// the last 3 s, so the old bursts are forgotten.
	for i := 1; i <= 100; i++ {
		m.add(at(2*time.Second+time.Duration(i)*100*time.Millisecond), 64)
	}
	if v := m.value(); math.Abs(v-640) > 1 {
		t.Errorf("rate %v after steady steps, want 640", v)
	}
}
