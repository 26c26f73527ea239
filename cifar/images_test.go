package cifar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// pixelAt reads pixel (x, y) of planar pixels.
func pixelAt(pix []byte, x, y int) [3]byte {
	p := y*ImageSize + x
	return [3]byte{pix[p], pix[PlaneSize+p], pix[2*PlaneSize+p]}
}

func TestDecodePNG(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	img := image.NewNRGBA(image.Rect(0, 0, ImageSize, ImageSize))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	pix, err := DecodeImage(pngBytes(t, img))
	if err != nil {
		t.Fatal(err)
	}
	for y := range ImageSize {
		for x := range ImageSize {
			c := img.NRGBAAt(x, y)
			if got := pixelAt(pix, x, y); got != [3]byte{c.R, c.G, c.B} {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, got, c)
			}
		}
	}
}

// Alpha is dropped from straight colour, as PIL's convert('RGB') does:
// a fully transparent red pixel stays red, not black.
func TestDecodeRGBAPNG(t *testing.T) {
	img := solid(ImageSize, ImageSize, color.NRGBA{200, 100, 50, 0xff})
	img.SetNRGBA(1, 0, color.NRGBA{200, 100, 50, 0})
	img.SetNRGBA(2, 0, color.NRGBA{10, 20, 30, 128})
	pix, err := DecodeImage(pngBytes(t, img))
	if err != nil {
		t.Fatal(err)
	}
	for x, want := range [][3]byte{{200, 100, 50}, {200, 100, 50}, {10, 20, 30}} {
		if got := pixelAt(pix, x, 0); got != want {
			t.Fatalf("pixel %d = %v, want %v", x, got, want)
		}
	}
}

func TestDecodeOtherPNGTypes(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, ImageSize, ImageSize))
	gray.SetGray(3, 4, color.Gray{77})
	pal := image.NewPaletted(image.Rect(0, 0, ImageSize, ImageSize),
		color.Palette{color.NRGBA{1, 2, 3, 255}, color.NRGBA{90, 80, 70, 0}})
	pal.SetColorIndex(3, 4, 1)
	deep := image.NewNRGBA64(image.Rect(0, 0, ImageSize, ImageSize))
	deep.SetNRGBA64(3, 4, color.NRGBA64{0x1234, 0xabcd, 0xff00, 0})
	gray16 := image.NewGray16(image.Rect(0, 0, ImageSize, ImageSize))
	gray16.SetGray16(3, 4, color.Gray16{0x4321})
	for _, tc := range []struct {
		name string
		img  image.Image
		want [3]byte
	}{
		{"gray", gray, [3]byte{77, 77, 77}},
		{"paletted with transparency", pal, [3]byte{90, 80, 70}},
		{"16-bit RGBA", deep, [3]byte{0x12, 0xab, 0xff}},
		{"16-bit gray", gray16, [3]byte{0x43, 0x43, 0x43}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pix, err := DecodeImage(pngBytes(t, tc.img))
			if err != nil {
				t.Fatal(err)
			}
			if got := pixelAt(pix, 3, 4); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDecodeJPEG(t *testing.T) {
	// A smooth colour image: JPEG at quality 95 keeps it within a few levels.
	img := image.NewNRGBA(image.Rect(0, 0, ImageSize, ImageSize))
	for y := range ImageSize {
		for x := range ImageSize {
			img.SetNRGBA(x, y, color.NRGBA{byte(8 * x), byte(8 * y), byte(4*x + 4*y), 0xff})
		}
	}
	for _, tc := range []struct {
		name string
		img  image.Image
	}{{"colour", img}, {"gray", toGray(img)}} {
		t.Run(tc.name, func(t *testing.T) {
			pix, err := DecodeImage(jpegBytes(t, tc.img, 95))
			if err != nil {
				t.Fatal(err)
			}
			var sum float64
			for y := range ImageSize {
				for x := range ImageSize {
					r, g, b, _ := tc.img.At(x, y).RGBA()
					got := pixelAt(pix, x, y)
					for c, v := range []uint32{r >> 8, g >> 8, b >> 8} {
						sum += absDiff(int(got[c]), int(v))
					}
				}
			}
			if mean := sum / PixelSize; mean > 3 {
				t.Fatalf("mean abs difference %.2f from the source, want <= 3", mean)
			}
		})
	}
}

func toGray(img image.Image) *image.Gray {
	g := image.NewGray(img.Bounds())
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			g.Set(x, y, img.At(x, y))
		}
	}
	return g
}

func absDiff(a, b int) float64 {
	if a < b {
		return float64(b - a)
	}
	return float64(a - b)
}

// ycbcrPlanes must give what the standard library's YCbCr conversion gives,
// for every subsampling the JPEG decoder produces.
func TestYCbCrPlanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		m := image.NewYCbCr(image.Rect(0, 0, ImageSize, ImageSize), ratio)
		for _, plane := range [][]byte{m.Y, m.Cb, m.Cr} {
			for i := range plane {
				plane[i] = byte(rng.Uint32())
			}
		}
		got := make([]byte, PixelSize)
		ycbcrPlanes(got, m)
		for y := range ImageSize {
			for x := range ImageSize {
				c := m.YCbCrAt(x, y)
				r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				if px := pixelAt(got, x, y); px != [3]byte{r, g, b} {
					t.Fatalf("%v at (%d,%d): %v, want %v", ratio, x, y, px, [3]byte{r, g, b})
				}
			}
		}
	}
}

// Every (Y, Cb, Cr) triple converts as color.YCbCrToRGB does.
func TestYCbCrPlanesExhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive conversion check skipped in -short mode")
	}
	m := image.NewYCbCr(image.Rect(0, 0, ImageSize, ImageSize), image.YCbCrSubsampleRatio444)
	got := make([]byte, PixelSize)
	for yv := 0; yv < 256; yv += 4 { // each image holds 4 Y values × 256 Cb
		for cr := 0; cr < 256; cr++ {
			for p := range PlaneSize {
				m.Y[p], m.Cb[p], m.Cr[p] = byte(yv+p/256), byte(p%256), byte(cr)
			}
			ycbcrPlanes(got, m)
			for p := range PlaneSize {
				r, g, b := color.YCbCrToRGB(m.Y[p], m.Cb[p], m.Cr[p])
				if got[p] != r || got[PlaneSize+p] != g || got[2*PlaneSize+p] != b {
					t.Fatalf("Y %d Cb %d Cr %d: %d %d %d, want %d %d %d", m.Y[p], m.Cb[p], cr,
						got[p], got[PlaneSize+p], got[2*PlaneSize+p], r, g, b)
				}
			}
		}
	}
}

// formulaImage is the test image of testdata/pil_resize.py, with alpha
// from alpha(x, y).
func formulaImage(w, h int, alpha func(x, y int) byte) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{byte((x*7 + y*3) % 256), byte((x*x + y*5) % 256), byte(((x ^ y) * 4) % 256), alpha(x, y)})
		}
	}
	return img
}

// The resize agrees with Pillow's BILINEAR resize (testdata made by
// testdata/pil_resize.py) within one level, downscaling by 2×1.5 and 3×3
// (antialiased) and upscaling. With alpha, the colour must not change:
// convert('RGB') drops alpha before resizing.
func TestResizeMatchesPIL(t *testing.T) {
	for _, size := range [][2]int{{64, 48}, {96, 96}, {20, 25}} {
		w, h := size[0], size[1]
		want := readPILPlanes(t, fmt.Sprintf("testdata/pil_bilinear_%dx%d.txt", w, h))
		alphas := map[string]func(x, y int) byte{
			"opaque":     func(x, y int) byte { return 0xff },
			"with alpha": func(x, y int) byte { return byte(x * y) },
		}
		for name, alpha := range alphas {
			pix, err := DecodeImage(pngBytes(t, formulaImage(w, h, alpha)))
			if err != nil {
				t.Fatal(err)
			}
			for i := range pix {
				if d := absDiff(int(pix[i]), int(want[i])); d > 1 {
					t.Fatalf("%dx%d %s: byte %d = %d, Pillow gives %d", w, h, name, i, pix[i], want[i])
				}
			}
		}
	}
}

func readPILPlanes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(data))
	if len(fields) != PixelSize {
		t.Fatalf("%s: %d values, want %d", path, len(fields), PixelSize)
	}
	out := make([]byte, PixelSize)
	for i, f := range fields {
		v, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = byte(v)
	}
	return out
}

// Downscaling antialiases: one-pixel stripes shrunk 3× come out grey, where
// sampling without a filter would keep black and white stripes.
func TestResizeAntialiases(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 96, 96))
	for i := range img.Pix {
		if i%2 == 0 {
			img.Pix[i] = 255
		}
	}
	pix, err := DecodeImage(pngBytes(t, img))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range pix {
		if v < 64 || v > 192 {
			t.Fatalf("byte %d = %d, want grey (64..192)", i, v)
		}
	}
}

func TestResize64x48(t *testing.T) {
	// A solid colour stays exactly that colour through the resize.
	pix, err := DecodeImage(jpegBytes(t, solid(64, 48, color.NRGBA{0, 0, 0, 255}), 90))
	if err != nil {
		t.Fatal(err)
	}
	pix2, err := DecodeImage(pngBytes(t, solid(64, 48, color.NRGBA{12, 200, 99, 255})))
	if err != nil {
		t.Fatal(err)
	}
	for p := range PlaneSize {
		if pix[p] > 2 || pixelAt(pix2, p%32, p/32) != [3]byte{12, 200, 99} {
			t.Fatalf("pixel %d: %v / %v", p, pix[p], pixelAt(pix2, p%32, p/32))
		}
	}
}

func TestDecodeImageErrors(t *testing.T) {
	tiny := pngBytes(t, solid(1, 1, color.NRGBA{1, 2, 3, 255}))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a PNG, JPEG, GIF or WebP"},
		{"text", []byte("hello"), "not a PNG, JPEG, GIF or WebP"},
		{"truncated gif", []byte("GIF89a\x01\x00\x01\x00"), "decode GIF"},
		{"truncated webp", []byte("RIFF\x10\x00\x00\x00WEBPVP8L"), "decode WebP"},
		{"truncated png", tiny[:len(tiny)-20], "decode PNG"},
		{"truncated jpeg", jpegBytes(t, solid(32, 32, color.NRGBA{9, 9, 9, 255}), 90)[:200], "decode JPEG"},
		{"huge png", hugePNG(t, tiny), "100000×100000"},
		{"huge jpeg", hugeJPEG(t), "60000×50000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeImage(tc.data)
			wantErr(t, err, tc.want)
		})
	}
}

// hugePNG rewrites a PNG's header to claim 100000×100000 pixels.
func hugePNG(t *testing.T, png []byte) []byte {
	out := bytes.Clone(png)
	ihdr := out[8+8 : 8+8+13] // after the signature, the chunk length and type
	binary.BigEndian.PutUint32(ihdr[0:], 100000)
	binary.BigEndian.PutUint32(ihdr[4:], 100000)
	binary.BigEndian.PutUint32(out[8+8+13:], crc32.ChecksumIEEE(out[8+4:8+8+13]))
	return out
}

// hugeJPEG rewrites a JPEG's SOF to claim 60000×50000 pixels.
func hugeJPEG(t *testing.T) []byte {
	out := jpegBytes(t, solid(8, 8, color.NRGBA{1, 2, 3, 255}), 90)
	i := bytes.Index(out, []byte{0xff, 0xc0})
	binary.BigEndian.PutUint16(out[i+5:], 50000)
	binary.BigEndian.PutUint16(out[i+7:], 60000)
	return out
}

// jpegSize reads what jpeg.DecodeConfig reads.
func TestJPEGSize(t *testing.T) {
	for _, size := range [][2]int{{1, 1}, {32, 32}, {64, 48}, {17, 300}} {
		data := jpegBytes(t, solid(size[0], size[1], color.NRGBA{5, 6, 7, 255}), 75)
		// Fill bytes and extraneous data before a marker are skipped alike.
		data = append(data[:2:2], append([]byte{0x12, 0xff, 0xff}, data[2:]...)...)
		got, err := jpegSize(data)
		want, err2 := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil || err2 != nil || got.Width != want.Width || got.Height != want.Height {
			t.Fatalf("%v: jpegSize %v %v, DecodeConfig %v %v", size, got, err, want, err2)
		}
	}
}

func TestDecodeImageFile(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "a.jpg", pngBytes(t, solid(40, 40, color.NRGBA{9, 8, 7, 255})))
	pix, err := DecodeImageFile(path) // content decides the format, not the name
	if err != nil {
		t.Fatal(err)
	}
	if pixelAt(pix, 31, 31) != [3]byte{9, 8, 7} {
		t.Fatalf("got %v", pixelAt(pix, 31, 31))
	}
	bad := writeFile(t, dir, "b.png", []byte("not an image"))
	_, err = DecodeImageFile(bad)
	wantErr(t, err, "b.png", "not a PNG, JPEG, GIF or WebP")
}

// A GIF (its palette's colours are exact) and a lossless WebP decode to
// the pixels of the same image as a PNG; DecodePicture gives those pixels
// and a copy fit into the side asked for.
func TestDecodeGIFAndWebP(t *testing.T) {
	img := image.NewPaletted(image.Rect(0, 0, 40, 20), color.Palette{color.RGBA{200, 30, 60, 255}, color.RGBA{10, 220, 90, 255}})
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 7 / 4)
	}
	var gifData bytes.Buffer
	if err := gif.Encode(&gifData, img, nil); err != nil {
		t.Fatal(err)
	}
	fromGIF, err := DecodeImage(gifData.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	fromPNG, err := DecodeImage(pngBytes(t, img))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromGIF, fromPNG) {
		t.Error("the GIF's pixels differ from the same image's as a PNG")
	}

	webpData, err := os.ReadFile("testdata/gopher.lossless.webp") // from golang.org/x/image's testdata
	if err != nil {
		t.Fatal(err)
	}
	pngData, err := os.ReadFile("testdata/gopher.png")
	if err != nil {
		t.Fatal(err)
	}
	fromWebP, err := DecodeImage(webpData)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := DecodeImage(pngData); !bytes.Equal(fromWebP, want) {
		t.Error("the lossless WebP's pixels differ from the same image's as a PNG")
	}
	p, err := DecodePicture(webpData, 24)
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != "WebP" || !bytes.Equal(p.Pixels, fromWebP) || max(p.Thumb.Rect.Dx(), p.Thumb.Rect.Dy()) != 24 ||
		p.Thumb.Rect.Dx()*p.Height/p.Width != p.Thumb.Rect.Dy() && p.Thumb.Rect.Dx() != 24 {
		t.Errorf("picture %s %d×%d, thumb %v", p.Format, p.Width, p.Height, p.Thumb.Rect)
	}
	if !IsImage(webpData) || !IsImage(gifData.Bytes()) || IsImage([]byte("RIFF0000WAVE")) {
		t.Error("IsImage")
	}
}
