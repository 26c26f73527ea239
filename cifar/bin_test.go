package cifar

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseBin(t *testing.T) {
	data := makeRecords(12, 3, 1)
	s, err := ParseBin("dir/some.bin", data)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "some.bin" || s.Source != "dir/some.bin" || s.Len() != 12 {
		t.Fatalf("got name %q source %q len %d", s.Name, s.Source, s.Len())
	}
	for i := range 12 {
		if got, want := s.Label(i), (3+i)%10; got != want {
			t.Fatalf("label %d = %d, want %d", i, got, want)
		}
	}
	pix := s.Pixels(5)
	if len(pix) != PixelSize || &pix[0] != &data[5*RecordSize+1] {
		t.Fatal("Pixels does not share the record's pixel bytes")
	}
	img := s.Image(5)
	for _, p := range []int{0, 33, 1023} {
		x, y := p%ImageSize, p/ImageSize
		c := img.NRGBAAt(x, y)
		if c.R != pix[p] || c.G != pix[PlaneSize+p] || c.B != pix[2*PlaneSize+p] || c.A != 255 {
			t.Fatalf("Image(5) at (%d,%d) = %v, want planes %d %d %d", x, y, c, pix[p], pix[PlaneSize+p], pix[2*PlaneSize+p])
		}
	}
	if got := s.LabelCounts(10); !slices.Equal(got, []int{1, 1, 1, 2, 2, 1, 1, 1, 1, 1}) {
		t.Fatalf("LabelCounts = %v", got)
	}
}

func TestHead(t *testing.T) {
	s, err := ParseBin("x.bin", makeRecords(5, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ n, want int }{{0, 0}, {3, 3}, {5, 5}, {9, 5}, {-1, 5}} {
		h := s.Head(tc.n)
		if h.Len() != tc.want || h.Name != s.Name || h.Source != s.Source {
			t.Fatalf("Head(%d): len %d, want %d", tc.n, h.Len(), tc.want)
		}
	}
	if (*Split)(nil).Head(3) != nil {
		t.Fatal("Head of a nil split is not nil")
	}
	// Appending to a head must not overwrite the records after it.
	h := s.Head(2)
	h.Records = append(h.Records, 0xee)
	if s.Records[2*RecordSize] == 0xee {
		t.Fatal("Head shares capacity beyond its records")
	}
}

func TestParseBinErrors(t *testing.T) {
	good := makeRecords(3, 0, 3)
	badLabel := makeRecords(3, 0, 3)
	badLabel[2*RecordSize] = 10
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, []string{"f.bin", "empty"}},
		{"misaligned", good[:2*RecordSize+100], []string{"f.bin", "6246 bytes", "record 2", "after 100 bytes"}},
		{"one byte short", good[:len(good)-1], []string{"f.bin", "record 2"}},
		{"label above 9", badLabel, []string{"f.bin", "record 2", "label 10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBin("f.bin", tc.data)
			wantErr(t, err, tc.want...)
		})
	}
}

func TestParseMeta(t *testing.T) {
	text := "\r\nA\r\nb c\n\n" + strings.Join([]string{"3", "4", "5", "6", "7", "8", "9", "10"}, "\n") + "\n\n"
	names, err := ParseMeta("m", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if names[0] != "A" || names[1] != "b c" || names[9] != "10" {
		t.Fatalf("names %q", names)
	}
	_, err = ParseMeta("dir/batches.meta.txt", []byte("a\nb\n"))
	wantErr(t, err, "dir/batches.meta.txt", "2 class names")
}

func TestOpenSingleBin(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "one.bin", makeRecords(4, 7, 4))
	ds, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train != nil || ds.Test != nil || ds.Only == nil || ds.Only.Len() != 4 || ds.Only.Label(0) != 7 {
		t.Fatalf("got %+v", ds)
	}
	if !slices.Equal(ds.Classes, CIFAR10Classes) {
		t.Fatalf("classes %q", ds.Classes)
	}
	ds.Classes[0] = "changed"
	if CIFAR10Classes[0] != "airplane" {
		t.Fatal("Dataset.Classes aliases CIFAR10Classes")
	}

	meta := strings.Join([]string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, "\n") + "\n"
	writeFile(t, dir, metaName, []byte(meta))
	ds, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Classes[9] != "j" {
		t.Fatalf("classes %q, want those of batches.meta.txt", ds.Classes)
	}
}

func TestOpenBinFolder(t *testing.T) {
	dir := t.TempDir()
	// Numeric order: 1, 2, 10 (not 1, 10, 2).
	for _, n := range []int{10, 2, 1} {
		writeFile(t, dir, fmt.Sprintf("data_batch_%d.bin", n), makeRecords(n, n, uint64(n)))
	}
	writeFile(t, dir, testBatchName, makeRecords(3, 5, 9))
	writeFile(t, dir, ".DS_Store", []byte("junk"))
	writeFile(t, dir, "readme.html", []byte("<html>"))
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 13 || ds.Test.Len() != 3 || ds.Only != nil || ds.Train.Name != "train" || ds.Test.Name != "test" {
		t.Fatalf("train %d test %d", ds.Train.Len(), ds.Test.Len())
	}
	wantLabels := []int{1, 2, 3}
	for i := 0; i < 10; i++ {
		wantLabels = append(wantLabels, (10+i)%10)
	}
	for i, want := range wantLabels {
		if ds.Train.Label(i) != want {
			t.Fatalf("train label %d = %d, want %d (batches out of order?)", i, ds.Train.Label(i), want)
		}
	}
	if !strings.Contains(ds.Train.Source, "data_batch_1.bin, data_batch_2.bin, data_batch_10.bin") {
		t.Fatalf("train source %q", ds.Train.Source)
	}
}

func TestOpenBinFolderPartial(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cifar-10-batches-bin/test_batch.bin", makeRecords(2, 0, 1))
	// The folder holding the extracted folder is looked into.
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train != nil || ds.Test.Len() != 2 {
		t.Fatalf("got %+v", ds)
	}
}

func TestOpenBinFolderErrors(t *testing.T) {
	bad := makeRecords(3, 0, 1)
	bad[RecordSize] = 200
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  []string
	}{
		{"empty folder", nil, []string{"no dataset found", "-batches-bin"}},
		{"bad label", map[string][]byte{"data_batch_1.bin": makeRecords(2, 0, 1), "data_batch_2.bin": bad},
			[]string{"data_batch_2.bin", "record 1", "label 200"}},
		{"truncated test", map[string][]byte{"test_batch.bin": makeRecords(2, 0, 1)[:RecordSize+5]},
			[]string{"test_batch.bin", "record 1", "3078 bytes"}},
		{"empty batch", map[string][]byte{"data_batch_1.bin": {}}, []string{"data_batch_1.bin", "empty"}},
		{"bad meta", map[string][]byte{"test_batch.bin": makeRecords(2, 0, 1), metaName: []byte("x\n")},
			[]string{metaName, "1 class names"}},
		{"same number twice", map[string][]byte{"data_batch_1.bin": makeRecords(1, 0, 1), "data_batch_01.bin": makeRecords(1, 0, 1)},
			[]string{"both training batch 1"}},
		{"binary and images", map[string][]byte{"test_batch.bin": makeRecords(1, 0, 1), "train/a/x.png": nil},
			[]string{"both binary batches and train/test image folders"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tc.files {
				writeFile(t, dir, name, data)
			}
			_, err := Open(dir)
			wantErr(t, err, tc.want...)
		})
	}
}

// A file larger than MaxBinRecords records is refused from its size, before
// it is read: the sparse file below reads as 184 MB of zeros.
func TestOpenBinTooLarge(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"big.bin", "data_batch_1.bin"} {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(MaxBinBytes + RecordSize); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	_, err := Open(filepath.Join(dir, "big.bin"))
	wantErr(t, err, "big.bin", "larger than the limit")
	_, err = Open(dir)
	wantErr(t, err, "data_batch_1.bin", "larger than the limit")
}

func TestOpenUnknown(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "picture.png", solidPNG(t, 7))
	_, err := Open(path)
	wantErr(t, err, "picture.png", "not a recognised dataset", "cifar-10-binary.tar.gz")
	_, err = Open(filepath.Join(dir, "missing"))
	wantErr(t, err, "missing")
}

func TestNormalize(t *testing.T) {
	pix := make([]byte, PixelSize)
	pix[0], pix[PlaneSize+1], pix[2*PlaneSize+2] = 255, 128, 0
	dst := make([]float32, PixelSize)
	Normalize(dst, pix)
	for _, tc := range []struct {
		i    int
		c    int
		want float64
	}{{0, 0, 1}, {PlaneSize + 1, 1, 128.0 / 255}, {2*PlaneSize + 2, 2, 0}} {
		want := (tc.want - float64(Mean[tc.c])) / float64(Std[tc.c])
		if d := float64(dst[tc.i]) - want; d > 1e-6 || d < -1e-6 {
			t.Fatalf("dst[%d] = %v, want %v", tc.i, dst[tc.i], want)
		}
	}
}
