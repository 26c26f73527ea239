package cifar

import (
	"archive/tar"
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

// fakeOfficial is a small archive laid out like cifar-10-binary.tar.gz,
// members in the official (unsorted) order; data batch n holds n+1 records
// whose labels start at n, and the test batch 4 records starting at 7.
func fakeOfficial(t testing.TB, gz bool) []byte {
	batch := func(n int) tarEntry {
		return tarEntry{name: fmt.Sprintf("cifar-10-batches-bin/data_batch_%d.bin", n), body: makeRecords(n+1, n, uint64(n))}
	}
	meta := strings.Join(CIFAR10Classes, "\n") + "\n\n"
	return buildTar(t, gz,
		tarEntry{name: "cifar-10-batches-bin/"},
		batch(4),
		tarEntry{name: "cifar-10-batches-bin/readme.html", body: []byte("<html>")},
		tarEntry{name: "cifar-10-batches-bin/test_batch.bin", body: makeRecords(4, 7, 9)},
		batch(3),
		tarEntry{name: "cifar-10-batches-bin/batches.meta.txt", body: []byte(meta)},
		batch(2), batch(5), batch(1),
	)
}

func TestReadArchiveOfficialLayout(t *testing.T) {
	for _, gz := range []bool{true, false} {
		ds, err := ReadArchive("fake.tar.gz", bytes.NewReader(fakeOfficial(t, gz)))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ds.Classes, CIFAR10Classes) || ds.Test.Len() != 4 || ds.Test.Label(0) != 7 {
			t.Fatalf("classes %q test %d", ds.Classes, ds.Test.Len())
		}
		// Batches 1..5 in order: 2+3+4+5+6 records, labels n, n+1, ... per batch.
		var want []int
		for n := 1; n <= 5; n++ {
			for i := 0; i <= n; i++ {
				want = append(want, (n+i)%10)
			}
		}
		if ds.Train.Len() != len(want) {
			t.Fatalf("train %d records, want %d", ds.Train.Len(), len(want))
		}
		for i, w := range want {
			if ds.Train.Label(i) != w {
				t.Fatalf("train label %d = %d, want %d", i, ds.Train.Label(i), w)
			}
		}
		if !strings.Contains(ds.Train.Source, "data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin") {
			t.Fatalf("train source %q", ds.Train.Source)
		}
	}
}

func TestOpenOfficialLayoutFile(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "cifar-10-binary.tar.gz", fakeOfficial(t, true))
	ds, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 20 || ds.Test.Len() != 4 || ds.Source != path {
		t.Fatalf("got train %d test %d source %q", ds.Train.Len(), ds.Test.Len(), ds.Source)
	}
}

// imageArchive packs a sampleTree into a tar, folders first as tar does.
func imageArchive(t *testing.T, tree imageTree, gz bool) []byte {
	var names []string
	for name := range tree.files {
		names = append(names, name)
	}
	sort.Strings(names)
	var entries []tarEntry
	seen := map[string]bool{}
	for _, name := range names {
		parts := strings.Split(name, "/")
		for i := 1; i < len(parts); i++ {
			if d := strings.Join(parts[:i], "/") + "/"; !seen[d] {
				seen[d] = true
				entries = append(entries, tarEntry{name: d})
			}
		}
		entries = append(entries, tarEntry{name: name, body: tree.files[name]})
	}
	return buildTar(t, gz, entries...)
}

func TestReadArchiveImages(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		gz     bool
	}{{"", true}, {"cifar-10-jpeg/", true}, {"./", false}, {"top/", false}} {
		t.Run(fmt.Sprintf("%q gz=%v", tc.prefix, tc.gz), func(t *testing.T) {
			tree := sampleTree(t, tc.prefix)
			ds, err := ReadArchive("imgs.tgz", bytes.NewReader(imageArchive(t, tree, tc.gz)))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ds.Classes, []string{"cat", "dog"}) {
				t.Fatalf("classes %q", ds.Classes)
			}
			checkSplit(t, ds.Train, tree.trainOrder)
			checkSplit(t, ds.Test, tree.testOrder)
		})
	}
}

// corrupt returns data with the byte at off changed.
func corrupt(data []byte, off int) []byte {
	out := bytes.Clone(data)
	out[off] ^= 0x55
	return out
}

func TestReadArchiveErrors(t *testing.T) {
	official := fakeOfficial(t, true)
	plain := fakeOfficial(t, false)
	png := solidPNG(t, 9)
	badLabel := makeRecords(3, 0, 1)
	badLabel[2*RecordSize] = 12
	// A plain tar that ends exactly after an entry's data, and one that
	// ends after one of the two zero blocks of the end marker.
	noMarker := plain[:len(plain)-endMarker]
	for len(noMarker) > 0 && bytes.Equal(noMarker[len(noMarker)-512:], make([]byte, 512)) {
		noMarker = noMarker[:len(noMarker)-512]
	}
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"corrupt gzip data", corrupt(official, len(official)/2), []string{"a.tgz", "corrupt gzip"}},
		{"corrupt gzip header", corrupt(official, 3), []string{"a.tgz", "gzip"}},
		{"corrupt gzip checksum", corrupt(official, len(official)-6), []string{"a.tgz", "gzip"}},
		{"truncated gzip", official[:len(official)/2], []string{"a.tgz", "truncated"}},
		{"truncated gzip trailer", official[:len(official)-4], []string{"a.tgz"}},
		{"gzip of garbage", gzipBytes(t, bytes.Repeat([]byte("garbage!"), 200)), []string{"a.tgz", "not a tar archive"}},
		{"corrupt tar header", corrupt(plain, 512+100), []string{"a.tgz", "tar"}},
		{"tar cut inside an entry", plain[:512*3+1000], []string{"a.tgz", "truncated"}},
		{"tar cut at an entry's end", noMarker, []string{"a.tgz", "end-of-archive marker"}},
		{"tar with half an end marker", append(bytes.Clone(noMarker), make([]byte, 512)...), []string{"a.tgz", "end-of-archive marker"}},
		{"empty file", nil, []string{"a.tgz", "end-of-archive marker"}},
		{"empty archive", buildTar(t, true), []string{"a.tgz", "no dataset found"}},
		{"parent path", buildTar(t, true, tarEntry{name: "train/cat/1.png", body: png}, tarEntry{name: "../evil.png", body: png}),
			[]string{"a.tgz", `"../evil.png"`, "refusing the archive"}},
		{"inner parent path", buildTar(t, true, tarEntry{name: "x/../../evil", body: png}), []string{`"x/../../evil"`, "refusing"}},
		{"absolute path", buildTar(t, true, tarEntry{name: "/etc/evil", body: png}), []string{`"/etc/evil"`, "absolute"}},
		{"symlink out", buildTar(t, true, tarEntry{name: "a/link", typeflag: tar.TypeSymlink, linkname: "../../etc/passwd"}),
			[]string{"a/link", "outside the archive"}},
		{"absolute symlink", buildTar(t, true, tarEntry{name: "link", typeflag: tar.TypeSymlink, linkname: "/etc/passwd"}),
			[]string{"outside the archive"}},
		{"hardlink out", buildTar(t, true, tarEntry{name: "link", typeflag: tar.TypeLink, linkname: "../x"}),
			[]string{"outside the archive"}},
		{"link in a class folder", buildTar(t, true, tarEntry{name: "train/cat/1.png", body: png},
			tarEntry{name: "train/cat/2.png", typeflag: tar.TypeSymlink, linkname: "1.png"}),
			[]string{"train/cat/2.png", "links"}},
		{"label above 9", buildTar(t, true, tarEntry{name: "b/test_batch.bin", body: badLabel}),
			[]string{"a.tgz:b/test_batch.bin", "record 2", "label 12"}},
		{"misaligned batch", buildTar(t, true, tarEntry{name: "b/data_batch_1.bin", body: badLabel[:RecordSize+7]}),
			[]string{"a.tgz:b/data_batch_1.bin", "record 1", "3080 bytes"}},
		{"empty batch", buildTar(t, true, tarEntry{name: "data_batch_3.bin", body: []byte{}}),
			[]string{"data_batch_3.bin", "empty"}},
		{"batches in two folders", buildTar(t, true, tarEntry{name: "a/data_batch_1.bin", body: makeRecords(1, 0, 0)},
			tarEntry{name: "b/data_batch_2.bin", body: makeRecords(1, 0, 0)}), []string{"two folders"}},
		{"duplicate test batch", buildTar(t, true, tarEntry{name: "test_batch.bin", body: makeRecords(1, 0, 0)},
			tarEntry{name: "./test_batch.bin", body: makeRecords(1, 0, 0)}), []string{"test_batch.bin appears twice"}},
		{"binary and images", buildTar(t, true, tarEntry{name: "test_batch.bin", body: makeRecords(1, 0, 0)},
			tarEntry{name: "train/cat/1.png", body: png}), []string{"both binary batches and train/test image folders"}},
		{"images under two folders", buildTar(t, true, tarEntry{name: "a/train/cat/1.png", body: png},
			tarEntry{name: "b/train/cat/1.png", body: png}), []string{"two top-level folders"}},
		{"image that does not decode", buildTar(t, true, tarEntry{name: "train/cat/1.png", body: png},
			tarEntry{name: "train/cat/2.png", body: png[:30]}), []string{"a.tgz:train/cat/2.png", "decode PNG"}},
		{"empty class folder", buildTar(t, true, tarEntry{name: "train/cat/1.png", body: png}, tarEntry{name: "train/dog/"}),
			[]string{"a.tgz:train/dog", "empty class folder"}},
		{"classes differ", buildTar(t, true, tarEntry{name: "train/cat/1.png", body: png}, tarEntry{name: "test/dog/1.png", body: png}),
			[]string{"class folders differ", "only in train: [cat]", "only in test: [dog]"}},
		{"split without classes", buildTar(t, true, tarEntry{name: "train/cat/1.png", body: png}, tarEntry{name: "test/"}),
			[]string{"a.tgz:test", "no class folders"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := ReadArchive("a.tgz", bytes.NewReader(tc.data))
			if ds != nil {
				t.Fatalf("got a dataset along with error %v", err)
			}
			wantErr(t, err, tc.want...)
		})
	}
}

// hugeEntry is a tar whose entry header claims size bytes, followed by only
// a little data.
func hugeEntry(t *testing.T, name string, size int64) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(make([]byte, 5000)); err != nil {
		t.Fatal(err)
	}
	tw.Flush() // leaves the entry short: the archive is truncated
	return buf.Bytes()
}

// Sizes claimed by headers are not trusted: a 100 GB entry allocates
// nothing near that, whether it is a batch, an image or ignored.
func TestReadArchiveHugeHeader(t *testing.T) {
	const huge = 100 << 30
	for _, tc := range []struct {
		name string
		want string
	}{
		{"data_batch_1.bin", "larger than the limit"},
		{"train/cat/1.png", "larger than the limit"},
		{"readme.html", "truncated"},
		{"test_batch.bin", "truncated"}, // under the limit, but short
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := int64(huge)
			if tc.name == "test_batch.bin" {
				size = MaxBinBytes
			}
			data := hugeEntry(t, tc.name, size)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := ReadArchive("big.tar", bytes.NewReader(data))
			runtime.ReadMemStats(&after)
			wantErr(t, err, "big.tar", tc.want)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
				t.Fatalf("allocated %d MB for a %d-byte archive", grew>>20, len(data))
			}
		})
	}
}

func TestOpenReader(t *testing.T) {
	// By content: a tar.gz without an archive name is still an archive.
	ds, err := OpenReader("upload", bytes.NewReader(fakeOfficial(t, true)))
	if err != nil || ds.Train.Len() != 20 {
		t.Fatalf("gzip by content: %v", err)
	}
	ds, err = OpenReader("upload", bytes.NewReader(fakeOfficial(t, false)))
	if err != nil || ds.Test.Len() != 4 {
		t.Fatalf("tar by content: %v", err)
	}
	ds, err = OpenReader("test_batch.bin", bytes.NewReader(makeRecords(3, 0, 1)))
	if err != nil || ds.Only.Len() != 3 || ds.Train != nil {
		t.Fatalf("bin: %v", err)
	}
	_, err = OpenReader("x.bin", bytes.NewReader(make([]byte, 10)))
	wantErr(t, err, "x.bin", "record 0")
	_, err = OpenReader("notes.txt", strings.NewReader("hello"))
	wantErr(t, err, "notes.txt", "not a recognised dataset")
}
