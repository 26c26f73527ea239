package safetensors

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// f32 is the header entry of an F32 tensor.
func f32(shape, offsets string) string {
	return `{"dtype":"F32","shape":` + shape + `,"data_offsets":` + offsets + `}`
}

func withLen(n uint64, rest string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
}

type malformed struct {
	name   string
	file   []byte
	tensor string // the tensor the error must name, "" for none
	want   string // part of the message
}

// malformedCases are files every reader must reject, built by hand.
var malformedCases = []malformed{
	// Header length.
	{"empty file", nil, "", "0 bytes, shorter than the 8-byte header length"},
	{"7 bytes", []byte{1, 0, 0, 0, 0, 0, 0}, "", "7 bytes, shorter"},
	{"length beyond file", withLen(100, `{}`), "", "header length 100 runs past the end of the 10-byte file"},
	{"length beyond cap", withLen(MaxHeaderSize+1, `{}`), "", "exceeds the limit"},
	{"length 2^64-1", withLen(1<<64-1, `{}`), "", "exceeds the limit"},
	{"length 2^63", withLen(1<<63, `{}`), "", "exceeds the limit"},
	{"zero length", withLen(0, ``), "", "does not start with '{'"},

	// Not a JSON object.
	{"array", build(`[]`, nil), "", "does not start with '{'"},
	{"string", build(`"x"`, nil), "", "does not start with '{'"},
	{"leading space", build(` {}`, nil), "", "does not start with '{'"},
	{"truncated", build(`{"a":`, nil), "a", "header JSON ends early"},
	{"unterminated", build(`{`, nil), "", "header JSON ends early"},
	{"trailing comma", build(`{"a":`+f32(`[1]`, `[0,4]`)+`,}`, make([]byte, 4)), "", "header JSON"},
	{"missing colon", build(`{"a" 1}`, nil), "a", "header JSON: invalid character"},
	{"trailing garbage", build(`{}x`, nil), "", "trailing data"},
	{"second object", build(`{}{}`, nil), "", "trailing data"},
	{"trailing NUL padding", build("{}\x00\x00", nil), "", "trailing data"},
	{"invalid UTF-8", build("{\"\xff\":"+f32(`[1]`, `[0,4]`)+`}`, make([]byte, 4)), "", "not valid UTF-8"},
	{"invalid UTF-8 in padding", build("{}  \xc3", nil), "", "not valid UTF-8"},

	// Duplicates.
	{"duplicate tensor", build(`{"a":`+f32(`[1]`, `[0,4]`)+`,"a":`+f32(`[1]`, `[4,8]`)+`}`, make([]byte, 8)), "a", "appears twice"},
	{"duplicate metadata", build(`{"__metadata__":{},"__metadata__":{}}`, nil), "", "__metadata__ appears twice"},
	{"duplicate metadata key", build(`{"__metadata__":{"k":"1","k":"2"}}`, nil), "", `key "k" appears twice`},
	{"duplicate field", build(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "a", `field "dtype" appears twice`},

	// Tensor entries.
	{"tensor not object", build(`{"a":1}`, nil), "a", "found number 1"},
	{"tensor null", build(`{"a":null}`, nil), "a", "found null"},
	{"unknown dtype", build(`{"a":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "a", `unknown dtype "F12"`},
	{"lower-case dtype", build(`{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "a", `unknown dtype "f32"`},
	{"dtype not string", build(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "a", "dtype is number 4"},
	{"missing dtype", build(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "a", `missing field "dtype"`},
	{"missing shape", build(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), "a", `missing field "shape"`},
	{"missing offsets", build(`{"a":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), "a", `missing field "data_offsets"`},
	{"unknown field", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, make([]byte, 4)), "a", `unknown field "x"`},
	{"shape null", build(`{"a":`+f32(`null`, `[0,4]`)+`}`, make([]byte, 4)), "a", "shape is null, not an array"},
	{"shape string", build(`{"a":`+f32(`"1"`, `[0,4]`)+`}`, make([]byte, 4)), "a", "not an array"},
	{"nested shape", build(`{"a":`+f32(`[[1]]`, `[0,4]`)+`}`, make([]byte, 4)), "a", "shape: an array is not a number"},
	{"negative dim", build(`{"a":`+f32(`[-1]`, `[0,4]`)+`}`, make([]byte, 4)), "a", "negative value -1"},
	{"fractional dim", build(`{"a":`+f32(`[1.5]`, `[0,4]`)+`}`, make([]byte, 4)), "a", "1.5 is not an integer"},
	{"exponent dim", build(`{"a":`+f32(`[1e0]`, `[0,4]`)+`}`, make([]byte, 4)), "a", "not an integer"},
	{"huge dim", build(`{"a":`+f32(`[18446744073709551616]`, `[0,4]`)+`}`, make([]byte, 4)), "a", "too large"},
	{"element count overflows", build(`{"a":`+f32(`[4294967296,4294967296]`, `[0,4]`)+`}`, make([]byte, 4)), "a", "overflows"},
	{"byte size overflows", build(`{"a":`+f32(`[4611686018427387904]`, `[0,4]`)+`}`, make([]byte, 4)), "a", "overflows"},
	{"size mismatch", build(`{"a":`+f32(`[2]`, `[0,4]`)+`}`, make([]byte, 4)), "a", "span 4 bytes, but shape [2] of F32 needs 8"},
	{"scalar mismatch", build(`{"a":`+f32(`[]`, `[0,0]`)+`}`, nil), "a", "needs 4"},
	{"begin after end", build(`{"a":`+f32(`[1]`, `[8,4]`)+`}`, make([]byte, 8)), "a", "begin after they end"},
	{"three offsets", build(`{"a":`+f32(`[1]`, `[0,4,4]`)+`}`, make([]byte, 4)), "a", "3 entries, want 2"},
	{"one offset", build(`{"a":`+f32(`[1]`, `[4]`)+`}`, make([]byte, 4)), "a", "1 entries, want 2"},
	{"negative offset", build(`{"a":`+f32(`[1]`, `[-4,0]`)+`}`, nil), "a", "negative value -4"},
	{"offset beyond int64", build(`{"a":`+f32(`[1]`, `[9223372036854775808,9223372036854775812]`)+`}`, nil), "a", "too large"},

	// Layout of the data section.
	{"beyond data section", build(`{"a":`+f32(`[2]`, `[0,8]`)+`}`, make([]byte, 4)), "a", "run past the 4-byte data section"},
	{"far beyond data section", build(`{"a":`+f32(`[1]`, `[9223372036854775803,9223372036854775807]`)+`}`, make([]byte, 4)), "a", "run past"},
	{"overlap", build(`{"a":`+f32(`[2]`, `[0,8]`)+`,"b":`+f32(`[2]`, `[4,12]`)+`}`, make([]byte, 12)), "b", `overlap tensor "a"`},
	{"same offsets", build(`{"a":`+f32(`[1]`, `[0,4]`)+`,"b":`+f32(`[1]`, `[0,4]`)+`}`, make([]byte, 4)), "b", `overlap tensor "a"`},
	{"empty inside another", build(`{"a":`+f32(`[2]`, `[0,8]`)+`,"b":`+f32(`[0]`, `[4,4]`)+`}`, make([]byte, 8)), "b", `overlap tensor "a"`},
	{"gap", build(`{"a":`+f32(`[1]`, `[0,4]`)+`,"b":`+f32(`[1]`, `[8,12]`)+`}`, make([]byte, 12)), "b", "bytes 4 to 8 of the data section unused"},
	{"not from 0", build(`{"a":`+f32(`[1]`, `[4,8]`)+`}`, make([]byte, 8)), "a", "bytes 0 to 4"},
	{"trailing data bytes", build(`{"a":`+f32(`[1]`, `[0,4]`)+`}`, make([]byte, 8)), "", "tensors cover 4 bytes of the 8-byte data section"},
	{"data but no tensors", build(`{}`, []byte{1}), "", "cover 0 bytes of the 1-byte"},

	// Metadata.
	{"metadata number value", build(`{"__metadata__":{"a":1}}`, nil), "", `value of "a" is number 1, not a string`},
	{"metadata null value", build(`{"__metadata__":{"a":null}}`, nil), "", "is null, not a string"},
	{"metadata object value", build(`{"__metadata__":{"a":{}}}`, nil), "", "is an object, not a string"},
	{"metadata array", build(`{"__metadata__":[]}`, nil), "", "is an array, not an object"},
	{"metadata string", build(`{"__metadata__":"x"}`, nil), "", `is string "x", not an object`},
}

func TestDecodeMalformed(t *testing.T) {
	for _, c := range malformedCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeBytes(c.file)
			if err == nil {
				t.Fatal("no error")
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not an *Error wrapping ErrFormat", err)
			}
			if e.Tensor != c.tensor {
				t.Errorf("error %q names tensor %q, want %q", err, e.Tensor, c.tensor)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

// TestDecodeAccepts lists edge cases that are valid.
func TestDecodeAccepts(t *testing.T) {
	cases := []struct {
		name string
		file []byte
	}{
		{"empty header", build(`{}`, nil)},
		{"whitespace padding", build("{} \t\r\n", nil)},
		{"whitespace inside", build(`{ "a" : { "dtype" : "F32" , "shape" : [ 1 ] , "data_offsets" : [ 0 , 4 ] } }`, make([]byte, 4))},
		{"zero dim beside a huge one", build(`{"a":`+f32(`[0,9223372036854775807]`, `[0,0]`)+`}`, nil)},
		{"zero-size tensors at the end", build(`{"a":`+f32(`[1]`, `[0,4]`)+`,"b":`+f32(`[0]`, `[4,4]`)+`,"c":`+f32(`[0]`, `[4,4]`)+`}`, make([]byte, 4))},
		{"escaped name", build(`{"a\u00e9\"":`+f32(`[1]`, `[0,4]`)+`}`, make([]byte, 4))},
		{"metadata name as a key in metadata", build(`{"__metadata__":{"__metadata__":"x"}}`, nil)},
		{"every dtype", build(`{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]},`+
			`"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},`+
			`"c":{"dtype":"I8","shape":[1],"data_offsets":[2,3]},`+
			`"d":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[3,4]},`+
			`"e":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[4,5]},`+
			`"f":{"dtype":"I16","shape":[1],"data_offsets":[5,7]},`+
			`"g":{"dtype":"U16","shape":[1],"data_offsets":[7,9]},`+
			`"h":{"dtype":"F16","shape":[1],"data_offsets":[9,11]},`+
			`"i":{"dtype":"BF16","shape":[1],"data_offsets":[11,13]},`+
			`"j":{"dtype":"I32","shape":[1],"data_offsets":[13,17]},`+
			`"k":{"dtype":"U32","shape":[1],"data_offsets":[17,21]},`+
			`"l":{"dtype":"F32","shape":[1],"data_offsets":[21,25]},`+
			`"m":{"dtype":"F64","shape":[1],"data_offsets":[25,33]},`+
			`"n":{"dtype":"I64","shape":[1],"data_offsets":[33,41]},`+
			`"o":{"dtype":"U64","shape":[1],"data_offsets":[41,49]}}`, make([]byte, 49))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := decodeBytes(c.file)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range f.Names() {
				if _, err := f.Tensor(name); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
