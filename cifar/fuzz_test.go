package cifar

import (
	"bytes"
	"image/color"
	"image/jpeg"
	"os"
	"testing"
)

// FuzzParseBin: any bytes give records or an error, never a panic, and
// accepted records are whole with labels 0..9.
func FuzzParseBin(f *testing.F) {
	f.Add(makeRecords(2, 0, 1))
	f.Add(makeRecords(1, 9, 2)[:RecordSize-1])
	f.Add([]byte{})
	f.Add(append(makeRecords(1, 0, 3), 10))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseBin("fuzz.bin", data)
		if err != nil {
			return
		}
		if len(s.Records)%RecordSize != 0 || s.Len() == 0 {
			t.Fatalf("accepted %d bytes", len(s.Records))
		}
		for i := range s.Len() {
			if s.Label(i) > 9 {
				t.Fatalf("accepted label %d", s.Label(i))
			}
		}
	})
}

// FuzzReadArchive: any bytes give a whole dataset or an error, never a
// panic or a partial dataset.
func FuzzReadArchive(f *testing.F) {
	png := solidPNG(f, 7)
	jpg := jpegBytes(f, solid(8, 8, color.NRGBA{1, 2, 3, 255}), 50)
	small := tarEntry{name: "b/test_batch.bin", body: makeRecords(2, 0, 1)}
	f.Add(buildTar(f, true, small, tarEntry{name: "b/batches.meta.txt", body: []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n")}))
	f.Add(buildTar(f, false, small, tarEntry{name: "b/data_batch_2.bin", body: makeRecords(1, 3, 2)}))
	f.Add(buildTar(f, false, tarEntry{name: "x/train/cat/1.png", body: png}, tarEntry{name: "x/test/cat/1.jpg", body: jpg}))
	f.Add(buildTar(f, true, tarEntry{name: "train/a/"}, tarEntry{name: "train/a/1.png", body: png}, tarEntry{name: "../x", body: png}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := ReadArchive("fuzz.tar", bytes.NewReader(data))
		if err != nil {
			if ds != nil {
				t.Fatal("dataset along with an error")
			}
			return
		}
		if len(ds.Classes) == 0 || len(ds.Classes) > MaxClasses || (ds.Train == nil && ds.Test == nil) {
			t.Fatalf("accepted dataset %+v", ds)
		}
		for _, s := range []*Split{ds.Train, ds.Test} {
			if s == nil {
				continue
			}
			if s.Len() == 0 || len(s.Records)%RecordSize != 0 {
				t.Fatalf("split %s of %d bytes", s.Name, len(s.Records))
			}
			for i := range s.Len() {
				if s.Label(i) >= len(ds.Classes) {
					t.Fatalf("label %d of %d classes", s.Label(i), len(ds.Classes))
				}
			}
		}
	})
}

// FuzzDecodeImage: any bytes give 3,072 pixel bytes or an error.
func FuzzDecodeImage(f *testing.F) {
	f.Add(solidPNG(f, 1))
	f.Add(pngBytes(f, solid(3, 70, color.NRGBA{1, 2, 3, 4})))
	f.Add(jpegBytes(f, solid(33, 31, color.NRGBA{9, 8, 7, 255}), 60))
	f.Add(jpegBytes(f, toGray(solid(32, 32, color.NRGBA{9, 8, 7, 255})), 60))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"))
	if webp, err := os.ReadFile("testdata/gopher.lossless.webp"); err == nil {
		f.Add(webp)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pix, err := DecodeImage(data)
		if err == nil && len(pix) != PixelSize {
			t.Fatalf("%d pixel bytes", len(pix))
		}
	})
}

// FuzzJPEGSize: the size checked before decoding is the size image/jpeg
// finds, so that the pixel limit holds for what the decoder allocates.
func FuzzJPEGSize(f *testing.F) {
	f.Add(jpegBytes(f, solid(33, 31, color.NRGBA{9, 8, 7, 255}), 60))
	f.Add(jpegBytes(f, toGray(solid(8, 300, color.NRGBA{9, 8, 7, 255})), 60))
	f.Add([]byte("\xff\xd8\xff\xff\x00\x12\xff\xc0\x00\x11\x08\x00\x10\x00\x10\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h, ok := jpegSOF(data)
		if !ok {
			return
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err == nil && (cfg.Width != w || cfg.Height != h) {
			t.Fatalf("jpegSOF %d×%d, DecodeConfig %d×%d", w, h, cfg.Width, cfg.Height)
		}
	})
}
