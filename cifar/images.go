package cifar

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

const (
	// MaxImageFileBytes bounds the size of one image file.
	MaxImageFileBytes = 64 << 20
	// MaxImagePixels bounds width×height of one image, checked from its
	// header before any pixel is decoded.
	MaxImagePixels = 1 << 25
)

// DecodeImageFile reads a PNG, JPEG, GIF or WebP file and returns its
// PixelSize pixel bytes (planar R, G, B) as DecodeImage does.
func DecodeImageFile(path string) ([]byte, error) {
	data, err := readFile(path, MaxImageFileBytes)
	if err != nil {
		return nil, err
	}
	pix, err := DecodeImage(data)
	if err != nil {
		return nil, fmt.Errorf("cifar: %s: %w", path, err)
	}
	return pix, nil
}

// DecodeImage decodes a PNG, JPEG, GIF (its first frame) or WebP image and
// returns its PixelSize pixel bytes (planar R, G, B). Like PIL's
// convert('RGB'), alpha is dropped without premultiplying and grayscale is
// replicated; an image that is not 32×32 is then squashed to 32×32 (the
// whole image, its aspect ratio not kept) with a bilinear filter that
// antialiases when downscaling, as PIL's resize((32, 32)) does.
func DecodeImage(data []byte) ([]byte, error) {
	img, err := decodeImage(data)
	if err != nil {
		return nil, err
	}
	pix := make([]byte, PixelSize)
	toPixels(pix, img)
	return pix, nil
}

// IsImage says whether data starts as an image DecodeImage reads.
func IsImage(data []byte) bool {
	_, ok := sniffImage(data)
	return ok
}

// Picture is a picture of one's own, decoded as DecodeImage does, with a
// copy to show beside what the network sees.
type Picture struct {
	Format string // "PNG", "JPEG", "GIF" or "WebP"
	Width  int    // of the original
	Height int
	Pixels []byte      // PixelSize bytes, planar R, G, B: what the network sees
	Thumb  *image.RGBA // the original, fit into the side asked for, aspect kept
}

// DecodePicture decodes an image as DecodeImage does, and makes a copy of
// it no larger than side×side pixels (aspect kept) to show.
func DecodePicture(data []byte, side int) (*Picture, error) {
	img, err := decodeImage(data)
	if err != nil {
		return nil, err
	}
	f, _ := sniffImage(data)
	p := &Picture{Format: f.name, Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), Pixels: make([]byte, PixelSize)}
	toPixels(p.Pixels, img)
	rgb := toOpaque(img)
	w, h := p.Width, p.Height
	if s := max(w, h); s > side {
		w, h = max(1, w*side/s), max(1, h*side/s)
	}
	p.Thumb = image.NewRGBA(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(p.Thumb, p.Thumb.Rect, rgb, rgb.Rect, draw.Src, nil)
	return p, nil
}

// decodeImage checks the image's size from its header, then decodes it.
func decodeImage(data []byte) (image.Image, error) {
	format, ok := sniffImage(data)
	if !ok {
		return nil, errors.New("not a PNG, JPEG, GIF or WebP image")
	}
	cfg, err := format.size(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format.name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, fmt.Errorf("%s image of %d×%d pixels: want 1 to %d pixels", format.name, cfg.Width, cfg.Height, MaxImagePixels)
	}
	img, err := format.decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format.name, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("decode %s: %d×%d pixels, but its header says %d×%d", format.name, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	return img, nil
}

// imageFormat is a decoder called directly, without image.Decode's
// registry and its buffering.
type imageFormat struct {
	name   string
	magic  string                             // its first bytes; "?" matches any byte
	size   func([]byte) (image.Config, error) // dimensions, before any pixel is allocated
	decode func(io.Reader) (image.Image, error)
}

var imageFormats = []imageFormat{
	{"PNG", "\x89PNG\r\n\x1a\n", pngSize, png.Decode},
	{"JPEG", "\xff\xd8", jpegSize, jpeg.Decode},
	{"GIF", "GIF8", gifSize, func(r io.Reader) (image.Image, error) { return gif.Decode(r) }},
	{"WebP", "RIFF????WEBP", webpSize, webp.Decode},
}

func pngSize(data []byte) (image.Config, error)  { return png.DecodeConfig(bytes.NewReader(data)) }
func gifSize(data []byte) (image.Config, error)  { return gif.DecodeConfig(bytes.NewReader(data)) }
func webpSize(data []byte) (image.Config, error) { return webp.DecodeConfig(bytes.NewReader(data)) }

// sniffImage tells the format of an image from its first bytes.
func sniffImage(data []byte) (imageFormat, bool) {
	for _, f := range imageFormats {
		if matchMagic(data, f.magic) {
			return f, true
		}
	}
	return imageFormat{}, false
}

func matchMagic(data []byte, magic string) bool {
	if len(data) < len(magic) {
		return false
	}
	for i := 0; i < len(magic); i++ {
		if magic[i] != '?' && data[i] != magic[i] {
			return false
		}
	}
	return true
}

// toPixels converts img to RGB, resizes it to 32×32 and writes its planes.
func toPixels(dst []byte, img image.Image) {
	if m, ok := img.(*image.YCbCr); ok && m.Rect == image.Rect(0, 0, ImageSize, ImageSize) {
		ycbcrPlanes(dst, m) // the usual CIFAR JPEG, without an RGBA copy
		return
	}
	rgb := toOpaque(img)
	if rgb.Rect.Dx() != ImageSize || rgb.Rect.Dy() != ImageSize {
		small := image.NewRGBA(image.Rect(0, 0, ImageSize, ImageSize))
		draw.BiLinear.Scale(small, small.Rect, rgb, rgb.Rect, draw.Src, nil)
		rgb = small
	}
	planes(dst, rgb)
}

// toOpaque copies img into an opaque RGBA image at the origin, dropping
// alpha from straight (non-premultiplied) colour, as PIL's convert('RGB').
func toOpaque(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch img.(type) {
	case *image.YCbCr, *image.Gray, *image.CMYK:
		// Opaque by nature: the standard library's fast paths are exact.
		stddraw.Draw(out, out.Rect, img, b.Min, stddraw.Src)
		return out
	}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl := straightAt(img, x, y)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = r, g, bl, 0xff
			i += 4
		}
	}
	return out
}

// straightAt is the 8-bit straight RGB colour of img at (x, y), with fast
// paths for the PNG decoder's types with alpha.
func straightAt(img image.Image, x, y int) (r, g, b uint8) {
	switch src := img.(type) {
	case *image.NRGBA:
		p := src.Pix[src.PixOffset(x, y):]
		return p[0], p[1], p[2]
	case *image.NRGBA64:
		p := src.Pix[src.PixOffset(x, y):]
		return p[0], p[2], p[4]
	case *image.Paletted:
		if i := int(src.ColorIndexAt(x, y)); i < len(src.Palette) {
			return straight(src.Palette[i])
		}
		return 0, 0, 0
	}
	return straight(img.At(x, y))
}

// straight converts a colour to 8-bit straight RGB. Straight colour types
// keep their channels even where alpha is zero; premultiplied ones are
// divided by alpha (information lost at alpha 0 is lost already).
func straight(c color.Color) (r, g, b uint8) {
	switch c := c.(type) {
	case color.NRGBA:
		return c.R, c.G, c.B
	case color.NRGBA64:
		return uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8)
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return n.R, n.G, n.B
}

// ycbcrPlanes converts a 32×32 YCbCr image to planar RGB, computing exactly
// what color.YCbCrToRGB does, without a call a pixel.
func ycbcrPlanes(dst []byte, m *image.YCbCr) {
	sx, sy := chromaShift(m.SubsampleRatio)
	rp := dst[0*PlaneSize : 1*PlaneSize]
	gp := dst[1*PlaneSize : 2*PlaneSize]
	bp := dst[2*PlaneSize : 3*PlaneSize]
	for y := 0; y < ImageSize; y++ {
		yRow := m.Y[y*m.YStride : y*m.YStride+ImageSize]
		cRow := (y >> sy) * m.CStride
		cbRow, crRow := m.Cb[cRow:], m.Cr[cRow:]
		rr, gr, br := rp[y*ImageSize:][:ImageSize], gp[y*ImageSize:][:ImageSize], bp[y*ImageSize:][:ImageSize]
		for x, yv := range yRow {
			yy := int32(yv) * 0x10101
			cb := int32(cbRow[x>>sx]) - 128
			cr := int32(crRow[x>>sx]) - 128
			rr[x] = clamp16(yy + 91881*cr)
			gr[x] = clamp16(yy - 22554*cb - 46802*cr)
			br[x] = clamp16(yy + 116130*cb)
		}
	}
}

// chromaShift is how far pixel coordinates shift right to index chroma.
func chromaShift(r image.YCbCrSubsampleRatio) (sx, sy uint) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 1, 0
	case image.YCbCrSubsampleRatio420:
		return 1, 1
	case image.YCbCrSubsampleRatio440:
		return 0, 1
	case image.YCbCrSubsampleRatio411:
		return 2, 0
	case image.YCbCrSubsampleRatio410:
		return 2, 1
	}
	return 0, 0
}

// clamp16 is v>>16 clamped to [0, 255], as in color.YCbCrToRGB.
func clamp16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}
