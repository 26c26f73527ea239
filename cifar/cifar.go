// Package cifar reads, verifies and prepares image-classification data in
// the CIFAR-10 binary record layout; it knows no model.
//
// Every source is converted to records of RecordSize bytes: one label byte,
// then 1,024 red, 1,024 green and 1,024 blue bytes of a 32×32 image,
// row-major. Open reads the official cifar-10-binary.tar.gz, its extracted
// folder, a single .bin batch, or folders and tar archives of PNG and JPEG
// images laid out as train/<class>/* and test/<class>/*. Fetch downloads and
// caches the official archive.
//
// Bad input never panics and never yields a partial dataset: every failure
// is an error that names the file (and the record, where there is one).
package cifar

import "image"

const (
	// ImageSize is the side of a CIFAR image in pixels.
	ImageSize = 32
	// PlaneSize is the number of bytes of one colour plane of an image.
	PlaneSize = ImageSize * ImageSize
	// PixelSize is the number of pixel bytes of one record (R, G, B planes).
	PixelSize = 3 * PlaneSize
	// RecordSize is the size of one binary record: a label byte and the pixels.
	RecordSize = 1 + PixelSize
	// MaxClasses is the most classes a dataset may have: labels are bytes.
	MaxClasses = 256
)

// Mean and Std are the reference normalisation, per channel R, G, B, applied
// to pixels scaled to [0, 1] (torchvision's Normalize after ToTensor).
var (
	Mean = [3]float32{0.485, 0.456, 0.406}
	Std  = [3]float32{0.229, 0.224, 0.225}
)

// CIFAR10Classes are the class names of CIFAR-10 in label order, used for
// binary data when no batches.meta.txt is at hand.
var CIFAR10Classes = []string{
	"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck",
}

// Split is one set of records, such as the training or the test images.
type Split struct {
	Name    string // "train", "test", or the file name
	Source  string // file or folder it was read from (for messages)
	Records []byte // Len()×RecordSize bytes
}

// Dataset is what Open returns. Official binary data and image folders fill
// Train and/or Test (either may be nil when its files are absent); a single
// .bin file fills Only and leaves both nil, for the caller to decide what it
// is used for.
type Dataset struct {
	Classes []string // class names in label order
	Train   *Split
	Test    *Split
	Only    *Split // set only when a single .bin file was opened
	Source  string
}

// Len is the number of records.
func (s *Split) Len() int { return len(s.Records) / RecordSize }

// Label is the class index of record i.
func (s *Split) Label(i int) int { return int(s.Records[i*RecordSize]) }

// Pixels is the PixelSize pixel bytes of record i (planar R, G, B), sharing
// storage with the split.
func (s *Split) Pixels(i int) []byte {
	off := i*RecordSize + 1
	return s.Records[off : off+PixelSize : off+PixelSize]
}

// Image returns record i as an opaque 32×32 image, for display.
func (s *Split) Image(i int) *image.NRGBA {
	pix := s.Pixels(i)
	img := image.NewNRGBA(image.Rect(0, 0, ImageSize, ImageSize))
	for p := 0; p < PlaneSize; p++ {
		img.Pix[4*p+0] = pix[p]
		img.Pix[4*p+1] = pix[PlaneSize+p]
		img.Pix[4*p+2] = pix[2*PlaneSize+p]
		img.Pix[4*p+3] = 0xff
	}
	return img
}

// Head returns the first n records as a split sharing storage with s (for a
// -limit flag). A negative n or one beyond Len gives all records.
func (s *Split) Head(n int) *Split {
	if s == nil {
		return nil
	}
	if n < 0 || n > s.Len() {
		n = s.Len()
	}
	end := n * RecordSize
	return &Split{Name: s.Name, Source: s.Source, Records: s.Records[:end:end]}
}

// Balanced returns n records taken from the classes in turn (the first
// unused record of each of numClasses labels, round after round, skipping
// a class that has none left), in the split's order: a -limit that leaves
// no class out where an image folder is ordered by class. A negative n or
// one beyond Len gives all records. The records are copied.
func (s *Split) Balanced(n, numClasses int) *Split {
	if s == nil {
		return nil
	}
	if n < 0 || n >= s.Len() || numClasses < 1 {
		return s.Head(-1)
	}
	byClass := make([][]int, numClasses)
	for i := 0; i < s.Len(); i++ {
		if l := s.Label(i); l < numClasses {
			byClass[l] = append(byClass[l], i)
		}
	}
	take := make([]bool, s.Len())
	for taken, round := 0, 0; taken < n; round++ {
		progress := false
		for c := 0; c < numClasses && taken < n; c++ {
			if round < len(byClass[c]) {
				take[byClass[c][round]] = true
				taken++
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	out := make([]byte, 0, n*RecordSize)
	for i, t := range take {
		if t {
			out = append(out, s.Records[i*RecordSize:(i+1)*RecordSize]...)
		}
	}
	return &Split{Name: s.Name, Source: s.Source, Records: out}
}

// LabelCounts returns how many records each label has; the slice has
// numClasses entries, and labels outside it are not counted.
func (s *Split) LabelCounts(numClasses int) []int {
	counts := make([]int, numClasses)
	for i := 0; i < s.Len(); i++ {
		if l := s.Label(i); l < numClasses {
			counts[l]++
		}
	}
	return counts
}

// Normalize writes pixel bytes pix (planar R, G, B, as from Pixels) into dst
// as float32 CHW values (p/255 - Mean[c]) / Std[c], computed in the order
// and precision of torchvision's ToTensor and Normalize so that inputs match
// PyTorch bit for bit. dst must hold PixelSize values.
func Normalize(dst []float32, pix []byte) {
	dst = dst[:PixelSize]
	pix = pix[:PixelSize]
	for c := 0; c < 3; c++ {
		mean, std := Mean[c], Std[c]
		for p := c * PlaneSize; p < (c+1)*PlaneSize; p++ {
			x := float32(pix[p]) / 255
			dst[p] = (x - mean) / std
		}
	}
}

// planes writes the pixels of a 32×32 opaque RGBA image as planar R, G, B.
func planes(dst []byte, img *image.RGBA) {
	for y := 0; y < ImageSize; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*ImageSize]
		for x := 0; x < ImageSize; x++ {
			p := y*ImageSize + x
			dst[p] = row[4*x]
			dst[PlaneSize+p] = row[4*x+1]
			dst[2*PlaneSize+p] = row[4*x+2]
		}
	}
}
