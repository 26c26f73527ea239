package viz

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A Map crosses from the browser's training worker to its page many times
// a second, inside a gob-encoded Snapshot (package pagewire). Its values go
// as raw little-endian float32s: gob would write each as a varint.

// MarshalBinary writes m as its title, its shape and its values.
func (m Map) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 4*binary.MaxVarintLen64+len(m.Title)+4*len(m.Data))
	b = binary.AppendUvarint(b, uint64(len(m.Title)))
	b = append(b, m.Title...)
	for _, n := range []int{m.C, m.H, m.W, len(m.Data)} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	for _, v := range m.Data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b, nil
}

// errMapTruncated is the failure of a Map cut short.
var errMapTruncated = errors.New("viz.Map: truncated")

// UnmarshalBinary reads what MarshalBinary wrote.
func (m *Map) UnmarshalBinary(b []byte) error {
	next := func() (int, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > math.MaxInt32 {
			return 0, errMapTruncated
		}
		b = b[n:]
		return int(v), nil
	}
	tl, err := next()
	if err != nil || tl > len(b) {
		return errMapTruncated
	}
	title := string(b[:tl])
	b = b[tl:]
	var dims [4]int
	for i := range dims {
		if dims[i], err = next(); err != nil {
			return err
		}
	}
	n := dims[3]
	if len(b) != 4*n {
		return fmt.Errorf("viz.Map %q: %d bytes for %d values", title, len(b), n)
	}
	var data []float32
	if n > 0 {
		data = make([]float32, n)
		for i := range data {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}
	*m = Map{Title: title, C: dims[0], H: dims[1], W: dims[2], Data: data}
	return nil
}
