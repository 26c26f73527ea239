package cifar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	// MaxBinRecords is the most records one binary file may hold; the
	// official batches hold 10,000. Larger files are refused before they are
	// read, so a bad size never becomes a huge allocation.
	MaxBinRecords = 60000
	// MaxBinBytes is MaxBinRecords records' worth of bytes.
	MaxBinBytes = MaxBinRecords * RecordSize
	// binMaxLabel is the largest label of CIFAR-10 binary data.
	binMaxLabel = 9
	// metaName is the file holding the class names of binary data.
	metaName = "batches.meta.txt"
	// testBatchName is the official test batch.
	testBatchName = "test_batch.bin"
	// maxMetaBytes bounds batches.meta.txt.
	maxMetaBytes = 1 << 16
)

// ParseBin checks data as CIFAR-10 binary records and returns them as a
// split named after source's base name. data is kept, not copied. Errors
// name source and, where one is at fault, the record.
func ParseBin(source string, data []byte) (*Split, error) {
	if err := checkBin(data); err != nil {
		return nil, fmt.Errorf("cifar: %s: %w", source, err)
	}
	return &Split{Name: baseName(source), Source: source, Records: data}, nil
}

// checkBin validates the size and the labels of binary records.
func checkBin(data []byte) error {
	n := len(data)
	if n == 0 {
		return errors.New("empty: no records")
	}
	if n > MaxBinBytes {
		return fmt.Errorf("%d bytes is more than %d records; refusing to read it", n, MaxBinRecords)
	}
	if rest := n % RecordSize; rest != 0 {
		return fmt.Errorf("size %d bytes is not a multiple of the %d-byte record: record %d (from byte %d) is cut off after %d bytes",
			n, RecordSize, n/RecordSize, n-rest, rest)
	}
	for i := 0; i < n/RecordSize; i++ {
		if l := data[i*RecordSize]; l > binMaxLabel {
			return fmt.Errorf("record %d (byte %d): label %d is above %d", i, i*RecordSize, l, binMaxLabel)
		}
	}
	return nil
}

// readBounded reads all of r, at most limit bytes; more is an error. It grows
// its buffer as data arrives, so a size claimed by a header is never
// allocated ahead of the data; hint (a claimed size, capped) only presizes it.
func readBounded(r io.Reader, hint, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(max(hint, 0), limit, 1<<22)))
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("larger than the limit of %d bytes", limit)
	}
	return buf.Bytes(), nil
}

// ParseMeta reads class names, one a line, as in batches.meta.txt: empty
// lines are ignored and there must be ten names.
func ParseMeta(source string, data []byte) ([]string, error) {
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if name := strings.TrimSpace(line); name != "" {
			names = append(names, name)
		}
	}
	if len(names) != len(CIFAR10Classes) {
		return nil, fmt.Errorf("cifar: %s: %d class names, want %d (one a line)", source, len(names), len(CIFAR10Classes))
	}
	return names, nil
}

// batchKind tells what a file name is in a binary dataset.
type batchKind int

const (
	notBatch batchKind = iota
	trainBatch
	testBatch
	metaFile
)

// classifyBatch recognises data_batch_N.bin (returning N), test_batch.bin and
// batches.meta.txt by base name.
func classifyBatch(name string) (batchKind, int) {
	switch name {
	case testBatchName:
		return testBatch, 0
	case metaName:
		return metaFile, 0
	}
	num, ok := strings.CutPrefix(name, "data_batch_")
	if !ok {
		return notBatch, 0
	}
	num, ok = strings.CutSuffix(num, ".bin")
	if !ok || num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return notBatch, 0
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return notBatch, 0
	}
	return trainBatch, n
}

// batchFile is one data_batch_N.bin to be read.
type batchFile struct {
	num  int
	name string
}

// sortBatches orders training batches by number and rejects two files with
// the same number (data_batch_1.bin and data_batch_01.bin).
func sortBatches(files []batchFile) error {
	sort.Slice(files, func(i, j int) bool { return files[i].num < files[j].num })
	for i := 1; i < len(files); i++ {
		if files[i].num == files[i-1].num {
			return fmt.Errorf("%s and %s are both training batch %d", files[i-1].name, files[i].name, files[i].num)
		}
	}
	return nil
}

// batchNames lists the files of a split for its Source.
func batchNames(files []batchFile) string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// baseName is the last element of a slash- or OS-separated path.
func baseName(p string) string {
	return path.Base(filepath.ToSlash(p))
}
