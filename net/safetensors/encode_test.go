package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// TestEncodeExactBytes checks the encoding of a small file byte for byte:
// length, compact JSON with __metadata__ first and tensors in the order
// given, space padding to a multiple of 8, then the data.
func TestEncodeExactBytes(t *testing.T) {
	tensors := []Tensor{
		F32("b", []int{2}, []float32{1, -2}),
		I64("a", nil, []int64{7}), // scalar
	}
	var got bytes.Buffer
	if err := Encode(&got, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	var want []byte
	want = append(want, 0x90, 0, 0, 0, 0, 0, 0, 0) // 144 = 138 bytes of JSON + 6 spaces
	want = append(want, `{"__metadata__":{"format":"pt"},`+
		`"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`+
		`"a":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}`...)
	want = append(want, "      "...)
	want = append(want, 0x00, 0x00, 0x80, 0x3f) // 1.0
	want = append(want, 0x00, 0x00, 0x00, 0xc0) // -2.0
	want = append(want, 7, 0, 0, 0, 0, 0, 0, 0) // 7
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("encoding:\n got %q\nwant %q", got.Bytes(), want)
	}
}

func TestEncodeNoMetadataNoTensors(t *testing.T) {
	var got bytes.Buffer
	if err := Encode(&got, nil, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	want := []byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("got %q, want %q", got.Bytes(), want)
	}
}

func TestEncodeNoHTMLEscaping(t *testing.T) {
	var got bytes.Buffer
	meta := map[string]string{"note": "a<b & c>d", "é": "ü"}
	if err := Encode(&got, []Tensor{F32("x<y>", []int{0}, nil)}, meta); err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(got.Bytes())
	header := got.Bytes()[8 : 8+n]
	want := `{"__metadata__":{"note":"a<b & c>d","é":"ü"},"x<y>":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`
	if strings.TrimRight(string(header), " ") != want {
		t.Errorf("header %q, want %q", header, want)
	}
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
}

func TestEncodeRejects(t *testing.T) {
	good := F32("w", []int{2}, []float32{1, 2})
	cases := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"duplicate", []Tensor{good, good}, nil, `"w" given twice`},
		{"reserved name", []Tensor{F32(metadataKey, nil, []float32{1})}, nil, "reserved"},
		{"invalid UTF-8 name", []Tensor{F32("\xff", nil, []float32{1})}, nil, "UTF-8"},
		{"short data", []Tensor{F32("w", []int{3}, []float32{1, 2})}, nil, "8 bytes of data, but shape [3] of F32 needs 12"},
		{"negative dim", []Tensor{{Name: "w", DType: DTypeF32, Shape: []int{-1}}}, nil, "negative dimension"},
		{"unknown dtype", []Tensor{{Name: "w", DType: "F33"}}, nil, `unknown dtype "F33"`},
		{"overflow", []Tensor{{Name: "w", DType: DTypeF64, Shape: []int{1 << 31, 1 << 31, 4}}}, nil, "overflows"},
		{"invalid UTF-8 metadata", []Tensor{good}, map[string]string{"k": "\xfe"}, "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, c.tensors, c.meta)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written before the error", buf.Len())
			}
		})
	}
}

func TestF32I64Copy(t *testing.T) {
	shape := []int{2}
	v := []float32{1, 2}
	tensor := F32("x", shape, v)
	shape[0], v[0] = 5, 9
	if tensor.Shape[0] != 2 || math.Float32frombits(binary.LittleEndian.Uint32(tensor.Data)) != 1 {
		t.Error("F32 aliases its arguments")
	}
	if len(I64("s", nil, []int64{1}).Shape) != 0 || I64("s", nil, []int64{1}).Shape == nil {
		t.Error("scalar shape should be empty and non-nil")
	}
}
