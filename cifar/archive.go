package cifar

import (
	"archive/tar"
	"bufio"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

// endMarker is the size of the two zero blocks that end a tar archive.
const endMarker = 2 * 512

// ReadArchive reads a dataset from a tar archive, gzip-compressed or not
// (detected from its first bytes): either the official binary batches
// (data_batch_N.bin, test_batch.bin, batches.meta.txt at the top or in one
// folder) or image folders train/<class>/* and test/<class>/*, possibly under
// one top-level folder. Nothing is extracted to disk. An archive that is
// truncated, corrupt, or holds an entry with an absolute path or a ".."
// element is refused whole; source names it in messages.
func ReadArchive(source string, r io.Reader) (*Dataset, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var in io.Reader = br
	var gz *gzip.Reader
	if head, _ := br.Peek(2); isGzip(head) {
		var err error
		if gz, err = gzip.NewReader(br); err != nil {
			return nil, fmt.Errorf("cifar: %s: corrupt gzip: %w", source, err)
		}
		in = gz
	}
	a := &archive{source: source, images: newImageSet(source)}
	defer a.images.wait()
	if err := a.scan(in); err != nil {
		return nil, fmt.Errorf("cifar: %s: %w", source, err)
	}
	if gz != nil {
		// Read to the gzip trailer so that its checksum is verified.
		if _, err := io.Copy(io.Discard, gz); err != nil {
			return nil, fmt.Errorf("cifar: %s: corrupt gzip: %w", source, err)
		}
	}
	return a.finish()
}

// archive is the state of one pass over a tar archive.
type archive struct {
	source string
	bin    binMembers
	images *imageSet
	prefix *string // top-level folder of the image layout, once known
	in     *countingReader
}

// binMembers are the binary batches of an archive, read into memory.
type binMembers struct {
	dir   *string // folder holding them, once known
	train []binMember
	test  *binMember
	meta  *binMember
}

type binMember struct {
	num  int
	name string
	data []byte
}

// countingReader counts the bytes the tar reader consumed and remembers the
// error from below it, to tell a corrupt gzip from a corrupt tar.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// scan reads every entry. The tar reader stops quietly at a clean block
// boundary, so scan also requires the end-of-archive marker to have been
// read after the last entry's data: without it the archive is truncated.
func (a *archive) scan(in io.Reader) error {
	cr := &countingReader{r: in}
	a.in = cr
	tr := tar.NewReader(cr)
	dataEnd := int64(0)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return describeReadErr(cr, err)
		}
		if err := a.entry(tr, hdr); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, describeReadErr(cr, err))
		}
		dataEnd = cr.n
	}
	if cr.n-dataEnd < endMarker {
		return errors.New("truncated tar: it ends without the end-of-archive marker")
	}
	return nil
}

// describeReadErr names what failed when reading the archive.
func describeReadErr(cr *countingReader, err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.As(cr.err, &corrupt) || errors.Is(cr.err, gzip.ErrChecksum) || errors.Is(cr.err, gzip.ErrHeader):
		return fmt.Errorf("corrupt gzip: %w", cr.err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated archive: %w", err)
	case errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("corrupt or not a tar archive: %w", err)
	case cr.err != nil:
		return fmt.Errorf("read: %w", cr.err)
	}
	return fmt.Errorf("corrupt tar: %w", err)
}

// entry checks one tar entry and keeps what belongs to a dataset.
func (a *archive) entry(tr *tar.Reader, hdr *tar.Header) error {
	name, err := cleanEntryName(hdr.Name)
	if err != nil {
		return err
	}
	if err := checkLink(hdr, name); err != nil {
		return err
	}
	if name == "" || hiddenPath(name) {
		return nil
	}
	parts := strings.Split(name, "/")
	if kind, num := classifyBatch(parts[len(parts)-1]); kind != notBatch && len(parts) <= 2 && !isDir(hdr) {
		return a.binEntry(tr, hdr, name, kind, num)
	}
	return a.imageEntry(tr, hdr, name, parts)
}

// cleanEntryName cleans a member name and refuses one that is absolute or
// climbs with "..": such an archive is refused whole.
func cleanEntryName(name string) (string, error) {
	slashed := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(slashed, "/") || (len(slashed) >= 2 && slashed[1] == ':') {
		return "", fmt.Errorf("entry %q has an absolute path; refusing the archive", name)
	}
	for _, part := range strings.Split(slashed, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q climbs out of the archive with \"..\"; refusing the archive", name)
		}
	}
	clean := path.Clean(slashed)
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

// checkLink refuses a link whose target is absolute or outside the archive.
// Links are never followed; this only refuses archives that try.
func checkLink(hdr *tar.Header, name string) error {
	target := strings.ReplaceAll(hdr.Linkname, "\\", "/")
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(name), target)
		}
	case tar.TypeLink:
	default:
		return nil
	}
	clean := path.Clean(target)
	if strings.HasPrefix(clean, "/") || (len(clean) >= 2 && clean[1] == ':') || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("link %q points to %q, outside the archive; refusing the archive", hdr.Name, hdr.Linkname)
	}
	return nil
}

// hiddenPath reports whether any element of a slash path is hidden.
func hiddenPath(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if isHidden(part) {
			return true
		}
	}
	return false
}

func isDir(hdr *tar.Header) bool { return hdr.Typeflag == tar.TypeDir }

func isRegular(hdr *tar.Header) bool {
	return hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA //nolint:staticcheck // old tars
}

// binEntry reads a binary batch or the class names into memory.
func (a *archive) binEntry(tr *tar.Reader, hdr *tar.Header, name string, kind batchKind, num int) error {
	if !isRegular(hdr) {
		return fmt.Errorf("%s: not a regular file", name)
	}
	dir := path.Dir(name)
	if a.bin.dir == nil {
		a.bin.dir = &dir
	} else if *a.bin.dir != dir {
		return fmt.Errorf("binary batches in two folders, %s/ and %s/", *a.bin.dir, dir)
	}
	limit := int64(MaxBinBytes)
	if kind == metaFile {
		limit = maxMetaBytes
	}
	if hdr.Size > limit {
		return fmt.Errorf("%s: %d bytes is larger than the limit of %d bytes; refusing to read it", name, hdr.Size, limit)
	}
	data, err := readBounded(tr, hdr.Size, limit)
	if err != nil {
		return fmt.Errorf("%s: %w", name, describeReadErr(a.in, err))
	}
	m := &binMember{num: num, name: name, data: data}
	switch kind {
	case trainBatch:
		a.bin.train = append(a.bin.train, *m)
	case testBatch:
		if a.bin.test != nil {
			return fmt.Errorf("%s appears twice", name)
		}
		a.bin.test = m
	case metaFile:
		if a.bin.meta != nil {
			return fmt.Errorf("%s appears twice", name)
		}
		a.bin.meta = m
	}
	return nil
}

// imageEntry handles an entry of the image layout [prefix/]split/class/file;
// entries elsewhere are ignored.
func (a *archive) imageEntry(tr *tar.Reader, hdr *tar.Header, name string, parts []string) error {
	off := -1
	switch {
	case isSplitName(parts[0]):
		off = 0
	case len(parts) > 1 && isSplitName(parts[1]):
		off = 1
	default:
		return nil
	}
	prefix := strings.Join(parts[:off], "/")
	if a.prefix == nil {
		a.prefix = &prefix
	} else if *a.prefix != prefix {
		return fmt.Errorf("image folders under two top-level folders, %q and %q", *a.prefix, prefix)
	}
	s := slices.Index(splitNames[:], parts[off])
	rest := parts[off+1:]
	where := a.source + ":" + path.Join(append(parts[:off:off], splitNames[s])...)
	a.images.addSplit(s, where)
	switch {
	case len(rest) == 0:
		return nil
	case isDir(hdr):
		a.images.addClass(s, rest[0])
		return nil
	case len(rest) == 1:
		return nil // a file beside the class folders belongs to no class
	case !isRegular(hdr):
		return fmt.Errorf("%s: links and special files are not supported in image folders", name)
	}
	if hdr.Size > MaxImageFileBytes {
		return fmt.Errorf("%s: %d bytes is larger than the limit of %d bytes for an image", name, hdr.Size, MaxImageFileBytes)
	}
	data, err := readBounded(tr, hdr.Size, MaxImageFileBytes)
	if err != nil {
		return fmt.Errorf("%s: %w", name, describeReadErr(a.in, err))
	}
	return a.images.addImage(imageJob{
		file:  imageFile{split: s, class: rest[0], name: strings.Join(rest[1:], "/")},
		where: a.source + ":" + name,
		load:  func() ([]byte, error) { return data, nil },
	})
}

func isSplitName(name string) bool { return name == splitNames[0] || name == splitNames[1] }

// finish builds the dataset from what the scan kept.
func (a *archive) finish() (*Dataset, error) {
	hasBin := len(a.bin.train) > 0 || a.bin.test != nil
	switch {
	case hasBin && !a.images.empty():
		return nil, fmt.Errorf("cifar: %s: holds both binary batches and train/test image folders", a.source)
	case hasBin:
		return a.binDataset()
	case !a.images.empty():
		return a.images.finish()
	}
	return nil, fmt.Errorf("cifar: %s: no dataset found in the archive; expected %s", a.source, Formats)
}

// binDataset checks the binary members and joins the training batches in
// numeric order.
func (a *archive) binDataset() (*Dataset, error) {
	ds := &Dataset{Classes: slices.Clone(CIFAR10Classes), Source: a.source}
	if m := a.bin.meta; m != nil {
		classes, err := ParseMeta(a.member(m), m.data)
		if err != nil {
			return nil, err
		}
		ds.Classes = classes
	}
	if len(a.bin.train) > 0 {
		train, err := a.joinTrain()
		if err != nil {
			return nil, err
		}
		ds.Train = train
	}
	if m := a.bin.test; m != nil {
		test, err := ParseBin(a.member(m), m.data)
		if err != nil {
			return nil, err
		}
		test.Name = "test"
		ds.Test = test
	}
	return ds, nil
}

// joinTrain checks each training batch and concatenates them.
func (a *archive) joinTrain() (*Split, error) {
	files := make([]batchFile, len(a.bin.train))
	byName := map[string][]byte{}
	total := 0
	for i, m := range a.bin.train {
		if _, err := ParseBin(a.member(&m), m.data); err != nil {
			return nil, err
		}
		files[i] = batchFile{num: m.num, name: path.Base(m.name)}
		byName[files[i].name] = m.data
		total += len(m.data)
	}
	if err := sortBatches(files); err != nil {
		return nil, fmt.Errorf("cifar: %s: %w", a.source, err)
	}
	records := make([]byte, 0, total)
	for _, f := range files {
		records = append(records, byName[f.name]...)
	}
	source := a.source + ":" + path.Join(*a.bin.dir, batchNames(files))
	if len(files) > 1 {
		source = a.source + ":" + *a.bin.dir + " (" + batchNames(files) + ")"
	}
	return &Split{Name: "train", Source: source, Records: records}, nil
}

// member names an archive member in messages.
func (a *archive) member(m *binMember) string { return a.source + ":" + m.name }
