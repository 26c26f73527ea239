package cifar

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Formats lists what Open reads, for messages.
const Formats = "cifar-10-binary.tar.gz, its extracted cifar-10-batches-bin folder, " +
	"a single .bin batch, or a folder, .tar or .tar.gz of PNG/JPEG images laid out as train/<class>/ and test/<class>/"

// Open reads a dataset from path, detecting its format: the official
// cifar-10-binary.tar.gz; a folder holding data_batch_N.bin and/or
// test_batch.bin (every data_batch_N.bin present, in numeric order); a
// single .bin file (into Dataset.Only); or image folders train/<class>/* and
// test/<class>/* as a folder, .tar or .tar.gz, possibly under one top-level
// folder. A folder holding only one other folder is looked into once.
func Open(path string) (*Dataset, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cifar: open data: %w", err)
	}
	if fi.IsDir() {
		return openDir(path, 1)
	}
	if isBinName(path) {
		return openBinFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cifar: open data: %w", err)
	}
	defer f.Close()
	return OpenReader(path, f)
}

// OpenReader reads a dataset from the contents of one file called name: a
// tar or gzip-compressed tar archive (detected from its bytes) or, by its
// .bin extension, a single binary batch (into Dataset.Only, with the ten
// CIFAR-10 class names). It serves where there is no file system, as in a
// browser.
func OpenReader(name string, r io.Reader) (*Dataset, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(512)
	if isGzip(head) || isTar(head) || hasArchiveExt(name) {
		return ReadArchive(name, br)
	}
	if !isBinName(name) {
		return nil, fmt.Errorf("cifar: %s: not a recognised dataset; expected %s", name, Formats)
	}
	data, err := readBounded(br, 0, MaxBinBytes)
	if err != nil {
		return nil, fmt.Errorf("cifar: read %s: %w", name, err)
	}
	split, err := ParseBin(name, data)
	if err != nil {
		return nil, err
	}
	return &Dataset{Classes: slices.Clone(CIFAR10Classes), Only: split, Source: name}, nil
}

// openBinFile reads a single .bin file, with class names from a
// batches.meta.txt beside it if there is one.
func openBinFile(path string) (*Dataset, error) {
	data, err := readFile(path, MaxBinBytes)
	if err != nil {
		return nil, err
	}
	split, err := ParseBin(path, data)
	if err != nil {
		return nil, err
	}
	classes, err := readMetaFile(filepath.Join(filepath.Dir(path), metaName))
	if err != nil {
		return nil, err
	}
	return &Dataset{Classes: classes, Only: split, Source: path}, nil
}

// readMetaFile reads class names from path, or gives the CIFAR-10 names when
// it does not exist.
func readMetaFile(path string) ([]string, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return slices.Clone(CIFAR10Classes), nil
	}
	data, err := readFile(path, maxMetaBytes)
	if err != nil {
		return nil, err
	}
	return ParseMeta(path, data)
}

// dirScan is what openDir found in a folder.
type dirScan struct {
	train   []batchFile // data_batch_N.bin, by name
	test    string      // test_batch.bin, if present
	meta    string      // batches.meta.txt, if present
	images  bool        // a train or test folder is present
	subdirs []string    // every other visible folder
}

// openDir reads a folder of binary batches or of image folders; when it
// holds neither but exactly one visible folder, it looks into that, depth
// times at most.
func openDir(dir string, depth int) (*Dataset, error) {
	scan, err := scanDir(dir)
	if err != nil {
		return nil, err
	}
	hasBin := len(scan.train) > 0 || scan.test != ""
	switch {
	case hasBin && scan.images:
		return nil, fmt.Errorf("cifar: %s: holds both binary batches and train/test image folders; pass one of them", dir)
	case hasBin:
		return readBinDir(dir, scan)
	case scan.images:
		return readImageDir(dir)
	case depth > 0 && len(scan.subdirs) == 1:
		return openDir(scan.subdirs[0], depth-1)
	}
	return nil, fmt.Errorf("cifar: %s: no dataset found: expected data_batch_N.bin/test_batch.bin or train/<class>/ and test/<class>/ image folders (formats: %s)", dir, Formats)
}

// scanDir lists the dataset files of a folder, ignoring hidden ones.
func scanDir(dir string) (*dirScan, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	scan := &dirScan{}
	for _, e := range entries {
		name := e.Name()
		if isHidden(name) {
			continue
		}
		if isDirEntry(dir, e) {
			if name == "train" || name == "test" {
				scan.images = true
			} else {
				scan.subdirs = append(scan.subdirs, filepath.Join(dir, name))
			}
			continue
		}
		switch kind, num := classifyBatch(name); kind {
		case trainBatch:
			scan.train = append(scan.train, batchFile{num: num, name: name})
		case testBatch:
			scan.test = name
		case metaFile:
			scan.meta = name
		}
	}
	return scan, nil
}

// readBinDir reads the binary batches found in a folder.
func readBinDir(dir string, scan *dirScan) (*Dataset, error) {
	ds := &Dataset{Source: dir}
	var err error
	if ds.Classes, err = readMetaFile(filepath.Join(dir, metaName)); err != nil {
		return nil, err
	}
	if len(scan.train) > 0 {
		if ds.Train, err = readTrainFiles(dir, scan.train); err != nil {
			return nil, err
		}
	}
	if scan.test != "" {
		path := filepath.Join(dir, scan.test)
		data, err := readFile(path, MaxBinBytes)
		if err != nil {
			return nil, err
		}
		if ds.Test, err = ParseBin(path, data); err != nil {
			return nil, err
		}
		ds.Test.Name = "test"
	}
	return ds, nil
}

// readTrainFiles reads data_batch_N.bin files in numeric order into one
// split, sized from the files so that it is allocated once.
func readTrainFiles(dir string, files []batchFile) (*Split, error) {
	if err := sortBatches(files); err != nil {
		return nil, fmt.Errorf("cifar: %s: %w", dir, err)
	}
	sizes := make([]int64, len(files))
	var total int64
	for i, f := range files {
		path := filepath.Join(dir, f.name)
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("cifar: %w", err)
		}
		if err := checkFileSize(path, fi.Size(), MaxBinBytes); err != nil {
			return nil, err
		}
		sizes[i] = fi.Size()
		total += fi.Size()
	}
	records := make([]byte, total)
	off := int64(0)
	for i, f := range files {
		path := filepath.Join(dir, f.name)
		part := records[off : off+sizes[i]]
		if err := readFileInto(path, part); err != nil {
			return nil, err
		}
		if _, err := ParseBin(path, part); err != nil {
			return nil, err
		}
		off += sizes[i]
	}
	source := filepath.Join(dir, batchNames(files))
	if len(files) > 1 {
		source = dir + " (" + batchNames(files) + ")"
	}
	return &Split{Name: "train", Source: source, Records: records}, nil
}

// readFileInto fills buf with the whole of the file at path, which must be
// exactly len(buf) bytes long.
func readFileInto(path string, buf []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	if _, err := io.ReadFull(f, buf); err != nil {
		return fmt.Errorf("cifar: read %s: %w", path, err)
	}
	if n, _ := f.Read(make([]byte, 1)); n != 0 {
		return fmt.Errorf("cifar: read %s: file grew while being read", path)
	}
	return nil
}

// readFile reads a whole file of at most limit bytes; its size is checked
// before anything is allocated.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	if err := checkFileSize(path, fi.Size(), limit); err != nil {
		return nil, err
	}
	data, err := readBounded(f, fi.Size(), limit)
	if err != nil {
		return nil, fmt.Errorf("cifar: read %s: %w", path, err)
	}
	return data, nil
}

// checkFileSize refuses a file larger than limit bytes.
func checkFileSize(path string, size, limit int64) error {
	if size > limit {
		return fmt.Errorf("cifar: %s: %d bytes is larger than the limit of %d bytes; refusing to read it", path, size, limit)
	}
	return nil
}

// isDirEntry reports whether e is a folder or a link to one.
func isDirEntry(dir string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && fi.IsDir()
}

// isHidden reports whether a file name is hidden (.DS_Store, ._x, .git).
func isHidden(name string) bool { return strings.HasPrefix(name, ".") }

// isBinName reports whether name ends in .bin.
func isBinName(name string) bool { return strings.EqualFold(filepath.Ext(name), ".bin") }

// hasArchiveExt reports whether name ends in .tar, .tar.gz or .tgz.
func hasArchiveExt(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".tar") || strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tgz")
}

// isGzip reports whether data starts with the gzip magic number.
func isGzip(head []byte) bool { return len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b }

// isTar reports whether a block carries the ustar magic of POSIX and GNU tar.
func isTar(head []byte) bool { return len(head) >= 262 && string(head[257:262]) == "ustar" }
