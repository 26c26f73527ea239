// Package safetensors reads and writes the safetensors format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON header, then the raw little-endian
// tensor data.
//
// The JSON header maps each tensor name to
// {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, offsets
// relative to the start of the data section, plus an optional
// "__metadata__" object of strings.
//
// Reading validates the whole header before any tensor data is touched, as
// strictly as the reference implementation: the tensors must cover the
// data section exactly, contiguously from 0, without overlap. It also
// rejects duplicate keys, which the reference silently drops.
//
// Writing (Encode) pads the header with spaces to a multiple of 8 bytes,
// as the reference does, and lays the tensors out in the order given,
// which lets a caller mirror PyTorch's state_dict order. The reference
// instead sorts by dtype, then name; readers do not depend on either.
package safetensors

import (
	"errors"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// DType names an element type as written in the header.
type DType string

// The element types this package understands. Only F32 and I64 have
// typed accessors (File.Float32, File.Int64); the others can be read as
// raw bytes with File.Tensor.
const (
	DTypeBool   DType = "BOOL"
	DTypeU8     DType = "U8"
	DTypeI8     DType = "I8"
	DTypeF8E5M2 DType = "F8_E5M2"
	DTypeF8E4M3 DType = "F8_E4M3"
	DTypeI16    DType = "I16"
	DTypeU16    DType = "U16"
	DTypeF16    DType = "F16"
	DTypeBF16   DType = "BF16"
	DTypeI32    DType = "I32"
	DTypeU32    DType = "U32"
	DTypeF32    DType = "F32"
	DTypeF64    DType = "F64"
	DTypeI64    DType = "I64"
	DTypeU64    DType = "U64"
)

var dtypeSizes = map[DType]int{
	DTypeBool: 1, DTypeU8: 1, DTypeI8: 1, DTypeF8E5M2: 1, DTypeF8E4M3: 1,
	DTypeI16: 2, DTypeU16: 2, DTypeF16: 2, DTypeBF16: 2,
	DTypeI32: 4, DTypeU32: 4, DTypeF32: 4,
	DTypeF64: 8, DTypeI64: 8, DTypeU64: 8,
}

// Size is the number of bytes of one element, and false for an unknown
// dtype.
func (d DType) Size() (int, bool) {
	s, ok := dtypeSizes[d]
	return s, ok
}

// MaxHeaderSize is the largest JSON header accepted, the reference's limit.
const MaxHeaderSize = 100_000_000

// metadataKey is the header key of the free-form string map.
const metadataKey = "__metadata__"

// Errors wrapped by *Error, for errors.Is.
var (
	ErrFormat   = errors.New("malformed safetensors file")
	ErrNotFound = errors.New("tensor not found")
	ErrDType    = errors.New("wrong dtype")
)

// Error describes a failure to read a file or one of its tensors.
type Error struct {
	File   string // path, or "" when decoding from a reader
	Tensor string // tensor concerned, or "" for the file as a whole
	Msg    string
	Err    error // ErrFormat, ErrNotFound, ErrDType, or an I/O error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("safetensors: ")
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if e.Tensor != "" {
		b.WriteString("tensor " + strconv.Quote(e.Tensor) + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// byteSize is the number of bytes of a tensor of dtype d and the given
// shape, with errors for an unknown dtype, a negative dimension, or a size
// that does not fit in an int64.
func byteSize(d DType, shape []int) (int64, error) {
	size, ok := d.Size()
	if !ok {
		return 0, errors.New("unknown dtype " + strconv.Quote(string(d)))
	}
	n := uint64(size)
	for i, dim := range shape {
		if dim < 0 {
			return 0, errors.New("negative dimension " + strconv.Itoa(dim) +
				" at index " + strconv.Itoa(i) + " of shape " + formatInts(shape))
		}
		if dim == 0 {
			n = 0
		}
	}
	for _, dim := range shape {
		hi, lo := bits.Mul64(n, uint64(dim))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, errors.New("shape " + formatInts(shape) + " of " +
				string(d) + " overflows a 64-bit byte count")
		}
		n = lo
	}
	return int64(n), nil
}

// formatInts writes a shape as "[2 3 4]".
func formatInts[T int | int64](v []T) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(int64(x), 10))
	}
	b.WriteByte(']')
	return b.String()
}
