package cifar

import (
	"bytes"
	"image"
	"image/jpeg"
)

// jpegSize reads the dimensions of a JPEG from its first SOF segment, walking
// the segments exactly as image/jpeg's decoder does up to there (fill bytes,
// extraneous data, restart markers), so that the size checked is the size
// the decoder will allocate. It is a cheap jpeg.DecodeConfig, which it falls
// back on for anything unusual.
func jpegSize(data []byte) (image.Config, error) {
	if w, h, ok := jpegSOF(data); ok {
		return image.Config{Width: w, Height: h}, nil
	}
	return jpeg.DecodeConfig(bytes.NewReader(data))
}

// jpegSOF finds the width and height of the first SOF0, SOF1 or SOF2
// segment before any scan; ok is false if there is none or the walk meets
// anything the decoder would reject.
func jpegSOF(data []byte) (width, height int, ok bool) {
	if len(data) < 2 || data[0] != 0xff || data[1] != 0xd8 {
		return 0, 0, false
	}
	pos := 2
	for {
		if pos+2 > len(data) {
			return 0, 0, false
		}
		t0, t1 := data[pos], data[pos+1]
		pos += 2
		for t0 != 0xff { // extraneous data, skipped by the decoder
			if pos >= len(data) {
				return 0, 0, false
			}
			t0, t1 = t1, data[pos]
			pos++
		}
		marker := t1
		if marker == 0 {
			continue
		}
		for marker == 0xff { // fill bytes
			if pos >= len(data) {
				return 0, 0, false
			}
			marker = data[pos]
			pos++
		}
		if marker == 0xd9 || marker == 0xda || marker < 0xc0 { // EOI, SOS, or an error for the decoder
			return 0, 0, false
		}
		if 0xd0 <= marker && marker <= 0xd7 { // RST markers carry no length
			continue
		}
		if pos+2 > len(data) {
			return 0, 0, false
		}
		n := int(data[pos])<<8 + int(data[pos+1]) - 2
		pos += 2
		if n < 0 {
			return 0, 0, false
		}
		if marker == 0xc0 || marker == 0xc1 || marker == 0xc2 {
			if n < 5 || pos+5 > len(data) {
				return 0, 0, false
			}
			height = int(data[pos+1])<<8 + int(data[pos+2])
			width = int(data[pos+3])<<8 + int(data[pos+4])
			return width, height, true
		}
		if pos+n > len(data) {
			return 0, 0, false
		}
		pos += n
	}
}
