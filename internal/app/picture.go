package app

import (
	"fmt"
	"image"
	"time"

	"cifarlab/cifar"
	"cifarlab/net"
	"cifarlab/viz"
)

// A picture of one's own (a photo dropped, pasted, picked or taken with the
// camera) becomes the inspected image in place of a test image: decoded and
// squashed to 32×32 as cifarlab predict does, sent through the network, its
// maps and prediction shown beside the original.

// pictureSide bounds the copy of the original the viewer shows.
const pictureSide = 128

// picture is the inspected picture.
type picture struct {
	name string
	pic  *cifar.Picture
	recs net.Records // its one record, uploaded when first inspected
	in   viz.Map     // what the network sees
	orig viz.Map     // the original, fit into pictureSide
}

// setPicture decodes data (a file named name) and inspects it.
func (w *worker) setPicture(name string, data []byte) error {
	if name == "" {
		name = "your picture"
	}
	pic, err := cifar.DecodePicture(data, pictureSide)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	w.dropPicture()
	w.testImage = -1
	p := &picture{name: name, pic: pic, orig: rgbMap(pic.Thumb)}
	p.in = viz.Map{C: 3, H: net.InputShape[1], W: net.InputShape[2], Data: make([]float32, len(pic.Pixels))}
	for i, b := range pic.Pixels {
		p.in.Data[i] = float32(b) / 255
	}
	w.picture = p
	w.inspectAgain()
	w.say("inspecting %s (%s, %d×%d, squashed to 32×32)", name, pic.Format, pic.Width, pic.Height)
	return nil
}

// dropPicture goes back to the test images.
func (w *worker) dropPicture() {
	if w.picture == nil {
		return
	}
	if w.picture.recs != nil && w.b != nil {
		w.b.Free(w.picture.recs)
	}
	w.picture = nil
}

// inspectAgain has the inspected image inspected at the next chance.
func (w *worker) inspectAgain() {
	w.dirty = true
	w.sal = nil
	w.lastInspect, w.inspectStep = time.Time{}, w.step-w.s.cfg.InspectSteps
}

// pictureRecords is the picture's record on the backend (label 0: the
// label is unknown), uploaded once.
func (w *worker) pictureRecords() (net.Records, error) {
	p := w.picture
	if p.recs == nil {
		rec := append([]byte{0}, p.pic.Pixels...)
		recs, err := w.b.UploadRecords(rec, net.InputShape)
		if err != nil {
			return nil, fmt.Errorf("upload %s: %w", p.name, err)
		}
		p.recs = recs
	}
	return p.recs, nil
}

// rgbMap is an RGB image as a map of three planes in [0, 1].
func rgbMap(img *image.RGBA) viz.Map {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	m := viz.Map{C: 3, H: h, W: w, Data: make([]float32, 3*w*h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := img.PixOffset(x+img.Rect.Min.X, y+img.Rect.Min.Y)
			for c := 0; c < 3; c++ {
				m.Data[c*w*h+y*w+x] = float32(img.Pix[o+c]) / 255
			}
		}
	}
	return m
}
