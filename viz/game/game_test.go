package game

import (
	"fmt"
	"image/png"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"cifarlab/viz"
)

// TestMain runs the game in a real window when CIFARLAB_EBITEN_SMOKE names
// a PNG to write (ebiten wants the main thread): under Xvfb,
//
//	CIFARLAB_EBITEN_SMOKE=/tmp/shot.png xvfb-run -a -s "-screen 0 1280x800x24" go test ./viz/game
func TestMain(m *testing.M) {
	if path := os.Getenv("CIFARLAB_EBITEN_SMOKE"); path != "" {
		if err := smoke(path); err != nil {
			fmt.Fprintln(os.Stderr, "smoke:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// smoke shows a synthetic ResNet18 snapshot, then LeNet5 ones, 5 a
// second, for 300 frames, and saves the last frame.
func smoke(path string) error {
	snaps := make(chan *viz.Snapshot, 1)
	intents := make(chan viz.Intent, 16)
	g := New(viz.New(viz.Options{}), snaps, intents)
	g.StopAfter(300)
	snaps <- viz.Synthetic("resnet18", 1, 900)
	go func() {
		for g.Frames() < 20 {
			time.Sleep(10 * time.Millisecond)
		}
		for step := 1800; g.Frames() < 300; step += 10 {
			if os.Getenv("CIFARLAB_EBITEN_IDLE") == "" {
				select {
				case snaps <- viz.Synthetic("lenet5", 2, step):
				default:
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	go func() {
		for g.Frames() < 50 {
			time.Sleep(5 * time.Millisecond)
		}
		t0 := time.Now()
		for g.Frames() < 290 {
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Fprintf(os.Stderr, "smoke: %.1f frames/s from frame 50 to 290; ebiten.ActualFPS %.1f\n",
			240/time.Since(t0).Seconds(), ebiten.ActualFPS())
	}()
	start := time.Now()
	if err := Run(g, "cifarlab viz smoke"); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	fmt.Fprintf(os.Stderr, "smoke: %d frames in %v\n", g.Frames(), time.Since(start))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, g.Screenshot()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func TestStepTakesTheLatestSnapshot(t *testing.T) {
	snaps := make(chan *viz.Snapshot, 4)
	ui := viz.New(viz.Options{})
	g := New(ui, snaps, nil)
	a, b := viz.Synthetic("lenet5", 1, 10), viz.Synthetic("lenet5", 1, 20)
	snaps <- a
	snaps <- b
	g.step(viz.Input{})
	if ui.Snapshot() != b || len(snaps) != 0 {
		t.Errorf("after step: snapshot step %d, %d left", ui.Snapshot().Step, len(snaps))
	}
	g.step(viz.Input{}) // nothing new: keeps b
	if ui.Snapshot() != b {
		t.Error("an empty channel replaced the snapshot")
	}
	close(snaps)
	g.step(viz.Input{})
	g.step(viz.Input{})
	if ui.Snapshot() != b {
		t.Error("a closed channel replaced the snapshot")
	}
}

// Intents go out in order; a full channel never blocks Update: they wait,
// and beyond 64 the oldest are dropped.
func TestIntentsNeverBlock(t *testing.T) {
	intents := make(chan viz.Intent, 1)
	ui := viz.New(viz.Options{})
	g := New(ui, nil, intents)
	space := viz.Input{Keys: []viz.Key{viz.KeySpace}}
	done := make(chan bool)
	go func() {
		for range 100 {
			g.step(space)
		}
		done <- true
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("step blocked on a full intent channel")
	}
	if len(intents) != 1 || len(g.pending) != maxPending || g.Dropped() != 100-1-maxPending {
		t.Errorf("sent %d, pending %d, dropped %d", len(intents), len(g.pending), g.Dropped())
	}
	// Taken as the channel empties, in order.
	<-intents
	ui.SetSnapshot(&viz.Snapshot{Running: true})
	g.step(space) // a Pause, queued after the waiting Starts
	var got []viz.IntentKind
	for range maxPending { // the 64 kept: 63 Starts, then the Pause
		select {
		case it := <-intents:
			got = append(got, it.Kind)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d intents came", len(got))
		}
		g.step(viz.Input{})
	}
	if got[0] != viz.Start || got[len(got)-1] != viz.Pause || len(g.pending) != 0 {
		t.Errorf("order: first %v, last %v, %d pending", got[0], got[len(got)-1], len(g.pending))
	}
}

func TestStop(t *testing.T) {
	g := New(viz.New(viz.Options{}), nil, nil)
	if g.stopped() {
		t.Fatal("stopped at once")
	}
	g.StopAfter(3)
	g.frames.Store(2)
	if g.stopped() {
		t.Error("stopped after 2 of 3 frames")
	}
	g.frames.Store(3)
	if !g.stopped() {
		t.Error("not stopped after 3 of 3 frames")
	}
	g.StopAfter(0)
	if g.stopped() {
		t.Error("StopAfter(0) stops")
	}
	g.Stop()
	if !g.stopped() {
		t.Error("Stop does not stop")
	}
}

func TestScreenshotIsACopy(t *testing.T) {
	ui := viz.New(viz.Options{})
	g := New(ui, nil, nil)
	ui.SetSnapshot(viz.Synthetic("lenet5", 1, 10))
	ui.Draw(g.buf)
	s := g.Screenshot()
	if !reflect.DeepEqual(s.Pix, g.buf.Pix) || &s.Pix[0] == &g.buf.Pix[0] {
		t.Error("Screenshot is not a copy of the frame")
	}
}

func TestKeyRepeat(t *testing.T) {
	var got []int
	for d := 0; d <= 42; d++ {
		if pressed(d, true) {
			got = append(got, d)
		}
	}
	if want := []int{1, 30, 34, 38, 42}; !reflect.DeepEqual(got, want) {
		t.Errorf("repeats at %v, want %v", got, want)
	}
	if pressed(30, false) {
		t.Error("a key without repeat repeats")
	}
}

// A file dropped on the window: weights are loaded, anything else is a
// picture to inspect.
func TestDropped(t *testing.T) {
	if in := dropped("w.SafeTensors", []byte("x")); in.Kind != viz.Load || in.Path != "w.SafeTensors" {
		t.Errorf("weights: %+v", in)
	}
	if in := dropped("cat.jpg", []byte("\xff\xd8")); in.Kind != viz.InspectPicture || string(in.Data) != "\xff\xd8" {
		t.Errorf("a picture: %+v", in)
	}
}
