package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	"cifarlab/internal/atomicfile"
)

// Tensor is a named tensor with its raw little-endian data.
type Tensor struct {
	Name  string
	DType DType
	Shape []int  // outermost first; empty for a scalar
	Data  []byte // len = product(Shape) × DType size
}

// F32 makes a float32 tensor, copying shape and v.
func F32(name string, shape []int, v []float32) Tensor {
	data := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: DTypeF32, Shape: cloneShape(shape), Data: data}
}

// I64 makes an int64 tensor, copying shape and v.
func I64(name string, shape []int, v []int64) Tensor {
	data := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(x))
	}
	return Tensor{Name: name, DType: DTypeI64, Shape: cloneShape(shape), Data: data}
}

// cloneShape copies a shape, never returning nil so that a scalar is
// written as "shape":[].
func cloneShape(shape []int) []int {
	return append(make([]int, 0, len(shape)), shape...)
}

// Encode writes tensors and metadata (may be nil) in safetensors format.
// Tensors are laid out in the data section in the order given, and listed
// in the header in that order after "__metadata__" (omitted when empty).
// The header is compact JSON padded with spaces to a multiple of 8 bytes.
// Everything is validated before the first byte is written: names must be
// unique, valid UTF-8 and not "__metadata__"; each tensor's data must
// match its dtype and shape; metadata must be valid UTF-8.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, err := encodeHeader(tensors, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: encode: %w", err)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	if err := writeAll(w, n[:], header); err != nil {
		return fmt.Errorf("safetensors: write header: %w", err)
	}
	for _, t := range tensors {
		if err := writeAll(w, t.Data); err != nil {
			return fmt.Errorf("safetensors: write tensor %q: %w", t.Name, err)
		}
	}
	return nil
}

// WriteFile encodes tensors and metadata into path, replacing it
// atomically: on any error the previous file is left intact.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		return Encode(w, tensors, metadata)
	})
}

func writeAll(w io.Writer, bufs ...[]byte) error {
	for _, b := range bufs {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// headerEntry is one tensor's header value; field order is the reference's.
type headerEntry struct {
	DType   DType    `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// encodeHeader validates tensors and metadata and returns the padded JSON
// header.
func encodeHeader(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	if err := checkMetadata(metadata); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	if len(metadata) > 0 {
		writeJSON(&buf, metadataKey)
		buf.WriteByte(':')
		writeJSON(&buf, metadata) // keys sorted by encoding/json
	}
	seen := make(map[string]bool, len(tensors))
	var offset int64
	for i, t := range tensors {
		size, err := checkTensor(t, seen)
		if err != nil {
			return nil, err
		}
		if i > 0 || len(metadata) > 0 {
			buf.WriteByte(',')
		}
		writeJSON(&buf, t.Name)
		buf.WriteByte(':')
		writeJSON(&buf, headerEntry{t.DType, cloneShape(t.Shape), [2]int64{offset, offset + size}})
		offset += size
	}
	buf.WriteByte('}')
	for buf.Len()%8 != 0 {
		buf.WriteByte(' ')
	}
	return buf.Bytes(), nil
}

// writeJSON appends the compact JSON of v without HTML escaping. v is
// always a string, a map of strings or a headerEntry, which cannot fail.
func writeJSON(buf *bytes.Buffer, v any) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

// checkTensor validates one tensor for writing and returns its byte size.
func checkTensor(t Tensor, seen map[string]bool) (int64, error) {
	switch {
	case !utf8.ValidString(t.Name):
		return 0, fmt.Errorf("tensor name %q is not valid UTF-8", t.Name)
	case t.Name == metadataKey:
		return 0, fmt.Errorf("tensor name %q is reserved", t.Name)
	case seen[t.Name]:
		return 0, fmt.Errorf("tensor %q given twice", t.Name)
	}
	seen[t.Name] = true
	size, err := byteSize(t.DType, t.Shape)
	if err != nil {
		return 0, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if int64(len(t.Data)) != size {
		return 0, fmt.Errorf("tensor %q: %d bytes of data, but shape %s of %s needs %d",
			t.Name, len(t.Data), formatInts(t.Shape), t.DType, size)
	}
	return size, nil
}

func checkMetadata(metadata map[string]string) error {
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("metadata %q: %q is not valid UTF-8", k, v)
		}
	}
	return nil
}
