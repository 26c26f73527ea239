package cifar

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// imageTree is a small image dataset as relative paths and file contents:
// grey levels tell the images apart, and the expected order of each split
// is listed as grey levels with labels.
type imageTree struct {
	files      map[string][]byte
	trainOrder []labelled
	testOrder  []labelled
}

type labelled struct {
	label int
	grey  byte
}

// sampleTree has classes "cat" and "dog" (sorted: cat=0, dog=1), PNG and
// JPEG files, an image in a subfolder, a 64×48 image, and hidden files.
func sampleTree(t *testing.T, prefix string) imageTree {
	p := func(name string) string { return prefix + name }
	jpegGrey := jpegBytes(t, solid(ImageSize, ImageSize, color.NRGBA{128, 128, 128, 255}), 100)
	return imageTree{
		files: map[string][]byte{
			p("train/dog/b.png"):           solidPNG(t, 20),
			p("train/dog/a.png"):           solidPNG(t, 10),
			p("train/cat/z.JPG"):           jpegGrey,
			p("train/cat/sub/c.png"):       solidPNG(t, 40),
			p("train/cat/y.png"):           pngBytes(t, solid(64, 48, color.NRGBA{30, 30, 30, 255})),
			p("train/cat/.DS_Store"):       []byte("junk"),
			p("train/.hidden/x.png"):       solidPNG(t, 1),
			p("train/notes.txt"):           []byte("files beside class folders are ignored"),
			p("test/cat/1.png"):            solidPNG(t, 50),
			p("test/dog/1.png"):            solidPNG(t, 60),
			p("test/dog/._1.png"):          []byte("AppleDouble"),
			p("test/.ipynb_checkpoints/x"): []byte("junk"),
		},
		// cat: "sub/c.png" < "y.png" < "z.JPG"; dog: a, b.
		trainOrder: []labelled{{0, 40}, {0, 30}, {0, 128}, {1, 10}, {1, 20}},
		testOrder:  []labelled{{0, 50}, {1, 60}},
	}
}

// checkSplit compares a split with the expected labels and grey levels
// (read at a corner pixel, within JPEG error).
func checkSplit(t *testing.T, s *Split, want []labelled) {
	t.Helper()
	if s == nil || s.Len() != len(want) {
		t.Fatalf("split %v: want %d images", s, len(want))
	}
	for i, w := range want {
		got := pixelAt(s.Pixels(i), 0, 0)
		if s.Label(i) != w.label || absDiff(int(got[0]), int(w.grey)) > 2 || got[0] != got[2] {
			t.Fatalf("%s image %d: label %d pixel %v, want label %d grey %d", s.Name, i, s.Label(i), got, w.label, w.grey)
		}
	}
}

func TestOpenImageFolder(t *testing.T) {
	for _, prefix := range []string{"", "my-images/"} {
		t.Run(fmt.Sprintf("prefix %q", prefix), func(t *testing.T) {
			dir := t.TempDir()
			tree := sampleTree(t, prefix)
			for name, data := range tree.files {
				writeFile(t, dir, name, data)
			}
			ds, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ds.Classes, []string{"cat", "dog"}) {
				t.Fatalf("classes %q", ds.Classes)
			}
			checkSplit(t, ds.Train, tree.trainOrder)
			checkSplit(t, ds.Test, tree.testOrder)
			if ds.Train.Name != "train" || ds.Train.Source != filepath.Join(dir, prefix, "train") {
				t.Fatalf("train split %q from %q", ds.Train.Name, ds.Train.Source)
			}
		})
	}
}

func TestOpenImageFolderTrainOnly(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train/b/1.png", solidPNG(t, 1))
	writeFile(t, dir, "train/a/1.png", solidPNG(t, 2))
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Test != nil {
		t.Fatal("test split without a test folder")
	}
	checkSplit(t, ds.Train, []labelled{{0, 2}, {1, 1}})
}

func TestOpenImageFolderErrors(t *testing.T) {
	png := solidPNG(t, 3)
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		dirs  []string
		want  []string
	}{
		{"classes differ", map[string][]byte{"train/cat/1.png": png, "train/dog/1.png": png, "test/cat/1.png": png, "test/emu/1.png": png},
			nil, []string{"class folders differ", "only in train: [dog]", "only in test: [emu]"}},
		{"empty class folder", map[string][]byte{"train/cat/1.png": png, "test/cat/1.png": png, "test/dog/.DS_Store": png, "train/dog/1.png": png},
			nil, []string{filepath.Join("test", "dog"), "empty class folder"}},
		{"no class folders", map[string][]byte{"train/cat/1.png": png, "train/cat/2.png": png},
			[]string{"test"}, []string{"test", "no class folders"}},
		{"not an image", map[string][]byte{"train/cat/1.png": png, "train/cat/notes.txt": []byte("hello")},
			nil, []string{filepath.Join("train", "cat", "notes.txt"), "not a PNG, JPEG, GIF or WebP"}},
		{"corrupt png", map[string][]byte{"train/cat/1.png": png[:40]},
			nil, []string{filepath.Join("train", "cat", "1.png"), "decode PNG"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tc.files {
				writeFile(t, dir, name, data)
			}
			for _, d := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Open(dir)
			wantErr(t, err, tc.want...)
		})
	}
}

func TestOpenImageFolderTooManyClasses(t *testing.T) {
	dir := t.TempDir()
	png := solidPNG(t, 3)
	for i := range MaxClasses + 1 {
		writeFile(t, dir, fmt.Sprintf("train/c%03d/1.png", i), png)
	}
	_, err := Open(dir)
	wantErr(t, err, "257 classes", "at most 256")

	// 256 classes are fine, and the last label is 255.
	if err := os.RemoveAll(filepath.Join(dir, "train", "c256")); err != nil {
		t.Fatal(err)
	}
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := ds.Train.Len(); n != 256 || ds.Train.Label(255) != 255 {
		t.Fatalf("%d images, last label %d", n, ds.Train.Label(n-1))
	}
}
