package app_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"cifarlab/cifar"
	"cifarlab/cpu"
	"cifarlab/internal/app"
	"cifarlab/net"
	"cifarlab/viz"
)

// A picture of one's own is inspected in place of a test image: the
// snapshot shows it and what the network sees, and its probabilities are
// those net.Evaluate (cifarlab predict) gives for the same file and
// weights. A test image brings the test images back; a file that is no
// image is a clear error.
func TestInspectPicture(t *testing.T) {
	s := start(t, app.Config{Model: "lenet5", Batch: 8, StripSize: 4}, synthetic(24, 8, 2))
	for range 3 {
		s.Handle(viz.Intent{Kind: viz.StepOnce})
	}
	img := image.NewNRGBA(image.Rect(0, 0, 90, 50))
	for y := range 50 {
		for x := range 90 {
			img.Set(x, y, color.NRGBA{uint8(x * 2), uint8(y * 5), 128, 255})
		}
	}
	var file bytes.Buffer
	if err := png.Encode(&file, img); err != nil {
		t.Fatal(err)
	}
	s.Handle(viz.Intent{Kind: viz.InspectPicture, Data: file.Bytes(), Path: "gradient.png"})
	settle(t, s)
	// The epoch's evaluation may come first: the picture's maps after it.
	deadline := time.Now().Add(time.Minute)
	for len(s.Snapshot().Probs) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	snap := s.Snapshot()
	p := snap.Picture
	if p == nil || p.Name != "gradient.png" || p.Width != 90 || p.Height != 50 || p.Original.W != 90 || p.Original.H != 50 ||
		snap.Label != -1 || snap.Selected != -1 || snap.Input.W != 32 || len(snap.Probs) != 10 || len(snap.Panels) == 0 {
		t.Fatalf("picture %+v, label %d, selected %d, %d probabilities", p, snap.Label, snap.Selected, len(snap.Probs))
	}

	// The same weights and file through net.Evaluate, as predict does.
	b := cpu.New()
	defer b.Close()
	wts, err := net.DecodeWeights(bytesReader(saveWeights(t, s)), int64(len(saveWeights(t, s))))
	if err != nil {
		t.Fatal(err)
	}
	n, err := net.New(b, "lenet5", 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Free()
	if err := n.Load(wts); err != nil {
		t.Fatal(err)
	}
	pix, err := cifar.DecodeImage(file.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	recs, err := b.UploadRecords(append([]byte{0}, pix...), net.InputShape)
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	if _, err := net.Evaluate(b, n, recs, -1, 1, net.Normalize{Mean: cifar.Mean[:], Std: cifar.Std[:]},
		func(pr net.Prediction) { want = pr.Probs }); err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if math.Abs(float64(snap.Probs[k])-want[k]) > 1e-6 {
			t.Fatalf("probabilities %v, predict's %v", snap.Probs, want)
		}
	}

	s.Handle(viz.Intent{Kind: viz.SelectImage, Image: 1})
	settle(t, s)
	if snap := s.Snapshot(); snap.Picture != nil || snap.Selected != 1 || snap.Label < 0 {
		t.Errorf("after selecting a test image: picture %v, selected %d", snap.Picture, snap.Selected)
	}
	s.Handle(viz.Intent{Kind: viz.InspectPicture, Data: []byte("hello"), Path: "notes.txt"})
	settle(t, s)
	if st := s.Status(); !strings.Contains(st.Error, "picture: notes.txt: not a PNG, JPEG, GIF or WebP image") {
		t.Errorf("a text file as a picture: %q", st.Error)
	}
}
