package cifar

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"cifarlab/internal/testenv"
)

// testData is the folder of real CIFAR-10 test files named by
// CIFARLAB_TESTDATA (see shared/cifar10/README.md): a skip without it, a
// failure when CIFARLAB_REQUIRE names testdata (as in CI).
func testData(t testing.TB) string {
	t.Helper()
	return testenv.Data(t)
}

func openExact(t testing.TB) *Dataset {
	t.Helper()
	start := time.Now()
	ds, err := Open(filepath.Join(testData(t), "exact"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("opened exact/ in %v", time.Since(start))
	return ds
}

var jpegOnce struct {
	sync.Once
	ds  *Dataset
	err error
	dur time.Duration
}

// openJPEG opens the 60,000-image JPEG archive once for all tests.
func openJPEG(t testing.TB) *Dataset {
	t.Helper()
	path := filepath.Join(testData(t), "cifar-10-jpeg.tar.gz")
	jpegOnce.Do(func() {
		start := time.Now()
		jpegOnce.ds, jpegOnce.err = Open(path)
		jpegOnce.dur = time.Since(start)
	})
	if jpegOnce.err != nil {
		t.Fatal(jpegOnce.err)
	}
	t.Logf("opened cifar-10-jpeg.tar.gz in %v", jpegOnce.dur)
	return jpegOnce.ds
}

func TestRealExactKnownValues(t *testing.T) {
	dir := filepath.Join(testData(t), "exact")
	test, err := Open(filepath.Join(dir, "test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if test.Only.Len() != 1000 || test.Train != nil || test.Test != nil {
		t.Fatalf("test_batch.bin: %d records", test.Only.Len())
	}
	var labels []int
	for i := range 10 {
		labels = append(labels, test.Only.Label(i))
	}
	if want := []int{3, 8, 8, 0, 6, 6, 1, 6, 3, 1}; !slices.Equal(labels, want) {
		t.Fatalf("first test labels %v, want %v", labels, want)
	}
	train, err := Open(filepath.Join(dir, "data_batch_1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	red := train.Only.Pixels(0)[:8]
	if want := []byte{59, 43, 50, 68, 98, 119, 139, 145}; !slices.Equal(red, want) {
		t.Fatalf("training image 0 red bytes %v, want %v", red, want)
	}
	if !slices.Equal(train.Classes, CIFAR10Classes) {
		t.Fatalf("classes from batches.meta.txt: %q", train.Classes)
	}
}

func TestRealExactFolder(t *testing.T) {
	ds := openExact(t)
	if ds.Train.Len() != 4000 || ds.Test.Len() != 1000 || ds.Only != nil {
		t.Fatalf("train %d test %d", ds.Train.Len(), ds.Test.Len())
	}
	if !slices.Equal(ds.Classes, CIFAR10Classes) {
		t.Fatalf("classes %q", ds.Classes)
	}
	if ds.Test.Label(0) != 3 || ds.Train.Pixels(0)[0] != 59 {
		t.Fatal("records out of place")
	}
}

func TestRealJPEGArchive(t *testing.T) {
	ds := openJPEG(t)
	if ds.Train.Len() != 50000 || ds.Test.Len() != 10000 {
		t.Fatalf("train %d test %d", ds.Train.Len(), ds.Test.Len())
	}
	if !slices.Equal(ds.Classes, CIFAR10Classes) {
		t.Fatalf("classes %q", ds.Classes)
	}
	for _, c := range []struct {
		s    *Split
		want int
	}{{ds.Train, 5000}, {ds.Test, 1000}} {
		for label, n := range c.s.LabelCounts(10) {
			if n != c.want {
				t.Fatalf("%s: class %d has %d images, want %d", c.s.Name, label, n, c.want)
			}
		}
	}
}

// The JPEG set numbers each class's images in the official order, so the
// k-th exact image of class c is image k of folder c: check that labels and
// pixels (within JPEG error, about 6/255) agree for every exact image.
func TestRealJPEGMatchesExact(t *testing.T) {
	exact, jpg := openExact(t), openJPEG(t)
	for _, pair := range []struct {
		exact, jpg *Split
		perClass   int
	}{{exact.Test, jpg.Test, 1000}, {exact.Train, jpg.Train, 5000}} {
		rank := make([]int, 10)
		var sum, worst float64
		for k := range pair.exact.Len() {
			c := pair.exact.Label(k)
			j := c*pair.perClass + rank[c]
			rank[c]++
			if pair.jpg.Label(j) != c {
				t.Fatalf("%s: JPEG image %d has label %d, exact image %d has %d", pair.exact.Name, j, pair.jpg.Label(j), k, c)
			}
			d := meanAbsDiff(pair.exact.Pixels(k), pair.jpg.Pixels(j))
			sum += d
			worst = max(worst, d)
		}
		mean := sum / float64(pair.exact.Len())
		t.Logf("%s: %d exact images, mean abs difference %.2f/255, worst image %.2f", pair.exact.Name, pair.exact.Len(), mean, worst)
		if mean > 8 || worst > 24 {
			t.Fatalf("%s: mean abs difference %.2f (worst image %.2f), want about 6", pair.exact.Name, mean, worst)
		}
	}
}

// Independently of the numbering: the JPEG test image nearest to an exact
// one, among all 10,000, has its label.
func TestRealJPEGNearestHasExactLabel(t *testing.T) {
	exact, jpg := openExact(t), openJPEG(t)
	for k := range 10 {
		best, bestD := -1, 256.0
		for j := range jpg.Test.Len() {
			if d := meanAbsDiff(exact.Test.Pixels(k), jpg.Test.Pixels(j)); d < bestD {
				best, bestD = j, d
			}
		}
		if jpg.Test.Label(best) != exact.Test.Label(k) || bestD > 16 {
			t.Fatalf("exact test image %d (label %d): nearest JPEG image %d has label %d at distance %.2f",
				k, exact.Test.Label(k), best, jpg.Test.Label(best), bestD)
		}
	}
}

func meanAbsDiff(a, b []byte) float64 {
	sum := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		sum += d
	}
	return float64(sum) / float64(len(a))
}

func BenchmarkOpenJPEGArchive(b *testing.B) {
	path := filepath.Join(testData(b), "cifar-10-jpeg.tar.gz")
	for b.Loop() {
		if _, err := Open(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenExactFolder(b *testing.B) {
	dir := filepath.Join(testData(b), "exact")
	for b.Loop() {
		if _, err := Open(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeImage(b *testing.B) {
	data := jpegBytes(b, formulaImage(ImageSize, ImageSize, func(x, y int) byte { return 255 }), 75)
	for b.Loop() {
		if _, err := DecodeImage(data); err != nil {
			b.Fatal(err)
		}
	}
}
