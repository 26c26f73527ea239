package safetensors

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode checks that Decode never panics, that every rejection is an
// *Error, and that an accepted file re-encodes to one that decodes to the
// same tensors, offsets and metadata.
func FuzzDecode(f *testing.F) {
	f.Add(encode(f, []Tensor{F32("b", []int{2}, []float32{1, -2}), I64("a", nil, []int64{7})}, map[string]string{"format": "pt"}))
	f.Add(encode(f, []Tensor{F32("e", []int{0, 3}, nil), F32("s", nil, []float32{3})}, nil))
	f.Add(encode(f, nil, nil))
	f.Add(build(`{"z":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"__metadata__":null}`, make([]byte, 12)))
	for _, c := range malformedCases {
		f.Add(c.file)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := decodeBytes(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		tensors := readAll(t, file)
		again, err := decodeBytes(encode(t, tensors, file.Metadata))
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if !reflect.DeepEqual(again.Infos(), file.Infos()) {
			t.Fatalf("infos changed on re-encoding:\n%+v\n%+v", file.Infos(), again.Infos())
		}
		if len(again.Metadata) != len(file.Metadata) || len(file.Metadata) > 0 && !reflect.DeepEqual(again.Metadata, file.Metadata) {
			t.Fatalf("metadata changed on re-encoding: %v, %v", file.Metadata, again.Metadata)
		}
		for _, want := range tensors {
			got, err := again.Tensor(want.Name)
			if err != nil || !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("tensor %q changed on re-encoding: %v", want.Name, err)
			}
		}
	})
}

// readAll reads every tensor in data order, through the typed accessor
// where there is one.
func readAll(t *testing.T, file *File) []Tensor {
	var tensors []Tensor
	for _, info := range file.Infos() {
		tensor, err := file.Tensor(info.Name)
		if err != nil {
			t.Fatalf("tensor %q of a valid file: %v", info.Name, err)
		}
		var n int
		switch info.DType {
		case DTypeF32:
			v, err := file.Float32(info.Name)
			n = len(v) * 4
			if err != nil {
				t.Fatal(err)
			}
		case DTypeI64:
			v, err := file.Int64(info.Name)
			n = len(v) * 8
			if err != nil {
				t.Fatal(err)
			}
		default:
			n = len(tensor.Data)
		}
		if n != len(tensor.Data) || int64(n) != info.End-info.Begin {
			t.Fatalf("tensor %q: typed read of %d bytes, raw %d, offsets %d", info.Name, n, len(tensor.Data), info.End-info.Begin)
		}
		tensors = append(tensors, tensor)
	}
	return tensors
}
