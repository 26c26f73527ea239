package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// build assembles a file from a JSON header and data, with the correct
// header length.
func build(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func decodeBytes(b []byte) (*File, error) {
	return Decode(bytes.NewReader(b), int64(len(b)))
}

func encode(t testing.TB, tensors []Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, tensors, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	f32 := []float32{0, float32(math.Copysign(0, -1)), 1.5, -3.25e-38, 1e-45, float32(math.Inf(1)),
		float32(math.Inf(-1)), math.Float32frombits(0x7fc00123), math.MaxFloat32, -7}
	i64 := []int64{math.MinInt64, -1, 0, 1, math.MaxInt64, 1 << 40}
	tensors := []Tensor{
		F32("conv1.weight", []int{2, 1, 5}, f32),
		I64("bn1.num_batches_tracked", []int{}, []int64{12345}),
		F32("empty", []int{0, 3}, nil),
		F32("empty2", []int{3, 0}, nil),
		I64("ids", []int{2, 3}, i64),
		F32("scalar", nil, []float32{-0.5}),
		{Name: "half", DType: DTypeBF16, Shape: []int{3}, Data: []byte{1, 2, 3, 4, 5, 6}},
		{Name: "", DType: DTypeBool, Shape: []int{1}, Data: []byte{1}},
	}
	meta := map[string]string{"format": "pt", "epoch": "3", "": "empty key"}
	f, err := decodeBytes(encode(t, tensors, meta))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, meta) {
		t.Errorf("metadata %v, want %v", f.Metadata, meta)
	}
	var names []string
	for _, tensor := range tensors {
		names = append(names, tensor.Name)
	}
	if !reflect.DeepEqual(f.Names(), names) {
		t.Errorf("names %q, want the order given %q", f.Names(), names)
	}
	for _, want := range tensors {
		got, err := f.Tensor(want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got.DType != want.DType || !reflect.DeepEqual(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("tensor %q: got %+v, want %+v", want.Name, got, want)
		}
	}
	gotF, err := f.Float32("conv1.weight")
	if err != nil {
		t.Fatal(err)
	}
	for i := range f32 {
		if math.Float32bits(gotF[i]) != math.Float32bits(f32[i]) {
			t.Errorf("conv1.weight[%d] = %v (%#x), want %v", i, gotF[i], math.Float32bits(gotF[i]), f32[i])
		}
	}
	gotI, err := f.Int64("ids")
	if err != nil || !reflect.DeepEqual(gotI, i64) {
		t.Errorf("ids = %v, %v; want %v", gotI, err, i64)
	}
	if v, err := f.Int64("bn1.num_batches_tracked"); err != nil || len(v) != 1 || v[0] != 12345 {
		t.Errorf("scalar I64 = %v, %v", v, err)
	}
	if v, err := f.Float32("empty"); err != nil || len(v) != 0 {
		t.Errorf("empty = %v, %v", v, err)
	}
}

func TestRoundTripNoMetadata(t *testing.T) {
	f, err := decodeBytes(encode(t, []Tensor{F32("a", []int{1}, []float32{2})}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata != nil {
		t.Errorf("metadata %v, want nil", f.Metadata)
	}
}

// TestDecodeReferenceExample decodes the example of the reference's
// documentation: an unpadded header (older writers did not pad).
func TestDecodeReferenceExample(t *testing.T) {
	b := []byte("<\x00\x00\x00\x00\x00\x00\x00" +
		`{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}` +
		strings.Repeat("\x00", 16))
	f, err := decodeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := f.Info("test")
	want := Info{Name: "test", DType: DTypeI32, Shape: []int{2, 2}, Begin: 0, End: 16}
	if !ok || !reflect.DeepEqual(info, want) {
		t.Errorf("info %+v, want %+v", info, want)
	}
	if _, err := f.Float32("test"); !errors.Is(err, ErrDType) || !strings.Contains(err.Error(), `tensor "test": dtype is I32, want F32`) {
		t.Errorf("Float32 of I32: %v", err)
	}
}

// TestDecodeOrder checks that tensors listed in any header order are
// reported in data order, as the reference writer sorts by dtype and name.
func TestDecodeOrder(t *testing.T) {
	header := `{"z":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},` +
		`"e":{"dtype":"U8","shape":[0],"data_offsets":[8,8]},` +
		`"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]},` +
		`"__metadata__":{"k":"v"}}   `
	data := []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3f}
	f, err := decodeBytes(build(header, data))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); !reflect.DeepEqual(got, []string{"a", "e", "z"}) {
		t.Errorf("names %q, want data order [a e z]", got)
	}
	if v, err := f.Float32("z"); err != nil || len(v) != 1 || v[0] != 1 {
		t.Errorf("z = %v, %v", v, err)
	}
	if !reflect.DeepEqual(f.Metadata, map[string]string{"k": "v"}) {
		t.Errorf("metadata %v", f.Metadata)
	}
}

func TestDecodeNullMetadata(t *testing.T) {
	f, err := decodeBytes(build(`{"__metadata__":null}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata != nil || len(f.Names()) != 0 {
		t.Errorf("got %v %v", f.Metadata, f.Names())
	}
}

func TestAccessorErrors(t *testing.T) {
	f, err := decodeBytes(encode(t, []Tensor{F32("w", []int{1}, []float32{1}), I64("n", nil, []int64{1})}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Float32("missing"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"missing"`) {
		t.Errorf("missing: %v", err)
	}
	if _, err := f.Int64("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := f.Tensor("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := f.Int64("w"); !errors.Is(err, ErrDType) {
		t.Errorf("I64 of F32: %v", err)
	}
	if _, err := f.Float32("n"); !errors.Is(err, ErrDType) {
		t.Errorf("F32 of I64: %v", err)
	}
	if _, ok := f.Info("missing"); ok {
		t.Error("Info of a missing tensor")
	}
	info, _ := f.Info("w")
	info.Shape[0] = 99
	if again, _ := f.Info("w"); again.Shape[0] != 1 {
		t.Error("Info shares its shape with the File")
	}
}

func TestDecodeShortReader(t *testing.T) {
	b := encode(t, []Tensor{F32("w", []int{4}, []float32{1, 2, 3, 4})}, nil)
	// Header present, data cut off: the header validates against the
	// claimed size, the read of the tensor fails cleanly.
	f, err := Decode(bytes.NewReader(b[:len(b)-4]), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Float32("w"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated read: %v", err)
	}
	// Header cut off.
	if _, err := Decode(bytes.NewReader(b[:20]), int64(len(b))); err == nil {
		t.Error("no error for a truncated header")
	}
	if _, err := Decode(bytes.NewReader(b[:4]), int64(len(b))); err == nil {
		t.Error("no error for a truncated length")
	}
}

func TestWriteReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	tensors := []Tensor{F32("fc.weight", []int{2, 2}, []float32{1, 2, 3, 4}), F32("fc.bias", []int{2}, []float32{5, 6})}
	if err := WriteFile(path, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := f.Float32("fc.bias"); err != nil || !reflect.DeepEqual(v, []float32{5, 6}) {
		t.Errorf("fc.bias = %v, %v", v, err)
	}
	_, err = f.Int64("fc.bias")
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
	// A failed write leaves the previous file intact.
	bad := []Tensor{F32("x", []int{3}, []float32{1})}
	if err := WriteFile(path, bad, nil); err == nil {
		t.Error("no error for a bad tensor")
	}
	if _, err := ReadFile(path); err != nil {
		t.Errorf("previous file damaged: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want 1", len(entries))
	}
}

func TestReadFileErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(path, build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	var e *Error
	if !errors.As(err, &e) || e.File != path || e.Tensor != "a" || !errors.Is(err, ErrFormat) {
		t.Fatalf("error %#v", err)
	}
	if !strings.HasPrefix(err.Error(), "safetensors: "+path+`: tensor "a": `) {
		t.Errorf("error %q", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
}
