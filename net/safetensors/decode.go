package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
)

// Info describes one tensor of a decoded file. Begin and End are byte
// offsets into the data section, which follows the header.
type Info struct {
	Name  string
	DType DType
	Shape []int // empty for a scalar
	Begin int64
	End   int64
}

// File is a decoded safetensors file whose header has been validated.
// Tensor data is read on demand from the underlying reader.
type File struct {
	// Metadata is the header's "__metadata__", nil when absent.
	Metadata map[string]string

	infos []Info         // in data order
	index map[string]int // name → position in infos
	r     io.ReaderAt
	data  int64  // offset of the data section in r
	path  string // for error messages; "" when unknown
}

// Decode parses and validates the header of the size-byte file in r. Tensor
// data is read from r later, by Tensor, Float32 and Int64, so r must stay
// readable while the File is used.
//
// Every malformed file gives an *Error wrapping ErrFormat (or the reader's
// error); nothing larger than the header is allocated before validation,
// and the header is read in full only once it is known to fit in size and
// MaxHeaderSize.
func Decode(r io.ReaderAt, size int64) (*File, error) {
	return decode(r, size, "")
}

// ReadFile reads and validates a safetensors file, keeping its data in
// memory. The header is validated before the data section is read.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := decode(fh, st.Size(), path)
	if err != nil {
		return nil, err
	}
	data := make([]byte, st.Size()-f.data)
	if got, err := fh.ReadAt(data, f.data); got < len(data) {
		return nil, &Error{File: path, Msg: "read data: " + err.Error(), Err: err}
	}
	f.r, f.data = bytes.NewReader(data), 0
	return f, nil
}

func decode(r io.ReaderAt, size int64, path string) (*File, error) {
	f, err := decodeHeader(r, size)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = path
		}
		return nil, err
	}
	f.path = path
	return f, nil
}

func decodeHeader(r io.ReaderAt, size int64) (*File, error) {
	n, err := headerLen(r, size)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.NewSectionReader(r, 8, n))
	if err != nil {
		return nil, &Error{Msg: "read header: " + err.Error(), Err: err}
	}
	if int64(len(raw)) != n {
		return nil, &Error{Msg: fmt.Sprintf("read header: got %d of %d bytes", len(raw), n), Err: io.ErrUnexpectedEOF}
	}
	h, err := parseHeader(raw)
	if err != nil {
		return nil, err
	}
	infos, err := layout(h.infos, size-8-n)
	if err != nil {
		return nil, err
	}
	f := &File{Metadata: h.metadata, infos: infos, index: make(map[string]int, len(infos)), r: r, data: 8 + n}
	for i, info := range infos {
		f.index[info.Name] = i
	}
	return f, nil
}

// headerLen reads the 8-byte header length and checks it against the file
// size and MaxHeaderSize.
func headerLen(r io.ReaderAt, size int64) (int64, error) {
	if size < 8 {
		return 0, formatErr("", fmt.Sprintf("file is %d bytes, shorter than the 8-byte header length", size))
	}
	var b [8]byte
	if got, err := r.ReadAt(b[:], 0); got < len(b) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, &Error{Msg: "read header length: " + err.Error(), Err: err}
	}
	n := binary.LittleEndian.Uint64(b[:])
	if n > MaxHeaderSize {
		return 0, formatErr("", fmt.Sprintf("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize))
	}
	if n > uint64(size-8) {
		return 0, formatErr("", fmt.Sprintf("header length %d runs past the end of the %d-byte file", n, size))
	}
	return int64(n), nil
}

// layout sorts tensors into data order (by offsets, header order for equal
// ones) and checks that they tile the dataLen-byte data section from 0
// without gap, overlap or trailing bytes.
func layout(infos []Info, dataLen int64) ([]Info, error) {
	for _, info := range infos {
		if info.End > dataLen {
			return nil, formatErr(info.Name, fmt.Sprintf("data_offsets %s run past the %d-byte data section",
				formatInts([]int64{info.Begin, info.End}), dataLen))
		}
	}
	slices.SortStableFunc(infos, func(a, b Info) int {
		if a.Begin != b.Begin {
			return cmpInt64(a.Begin, b.Begin)
		}
		return cmpInt64(a.End, b.End)
	})
	var end int64
	for i, info := range infos {
		switch {
		case info.Begin < end:
			prev := infos[i-1]
			return nil, formatErr(info.Name, fmt.Sprintf("data_offsets %s overlap tensor %q at %s",
				formatInts([]int64{info.Begin, info.End}), prev.Name, formatInts([]int64{prev.Begin, prev.End})))
		case info.Begin > end:
			return nil, formatErr(info.Name, fmt.Sprintf("data begins at byte %d, leaving bytes %d to %d of the data section unused",
				info.Begin, end, info.Begin))
		}
		end = info.End
	}
	if end != dataLen {
		return nil, formatErr("", fmt.Sprintf("tensors cover %d bytes of the %d-byte data section", end, dataLen))
	}
	return infos, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Names lists the tensors in data order (the order a writer laid them out).
func (f *File) Names() []string {
	names := make([]string, len(f.infos))
	for i, info := range f.infos {
		names[i] = info.Name
	}
	return names
}

// Infos lists the tensors in data order.
func (f *File) Infos() []Info {
	out := make([]Info, len(f.infos))
	for i, info := range f.infos {
		out[i] = info
		out[i].Shape = cloneShape(info.Shape)
	}
	return out
}

// Info describes the named tensor, and false if there is none.
func (f *File) Info(name string) (Info, bool) {
	i, ok := f.index[name]
	if !ok {
		return Info{}, false
	}
	info := f.infos[i]
	info.Shape = cloneShape(info.Shape)
	return info, true
}

// Tensor reads the named tensor's raw data.
func (f *File) Tensor(name string) (Tensor, error) {
	info, ok := f.Info(name)
	if !ok {
		return Tensor{}, f.err(name, "not in the file", ErrNotFound)
	}
	data := make([]byte, info.End-info.Begin)
	n, err := f.r.ReadAt(data, f.data+info.Begin)
	if n < len(data) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Tensor{}, f.err(name, "read data: "+err.Error(), err)
	}
	return Tensor{Name: name, DType: info.DType, Shape: info.Shape, Data: data}, nil
}

// Float32 reads the named F32 tensor.
func (f *File) Float32(name string) ([]float32, error) {
	data, err := f.typed(name, DTypeF32)
	if err != nil {
		return nil, err
	}
	v := make([]float32, len(data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return v, nil
}

// Int64 reads the named I64 tensor.
func (f *File) Int64(name string) ([]int64, error) {
	data, err := f.typed(name, DTypeI64)
	if err != nil {
		return nil, err
	}
	v := make([]int64, len(data)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
	}
	return v, nil
}

// typed reads the named tensor's data after checking its dtype.
func (f *File) typed(name string, want DType) ([]byte, error) {
	info, ok := f.Info(name)
	if !ok {
		return nil, f.err(name, "not in the file", ErrNotFound)
	}
	if info.DType != want {
		return nil, f.err(name, fmt.Sprintf("dtype is %s, want %s", info.DType, want), ErrDType)
	}
	t, err := f.Tensor(name)
	return t.Data, err
}

func (f *File) err(tensor, msg string, kind error) *Error {
	return &Error{File: f.path, Tensor: tensor, Msg: msg, Err: kind}
}
