package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// header is the parsed JSON header, before the layout is checked.
type header struct {
	infos    []Info // in header order
	metadata map[string]string
}

// parseHeader parses the JSON header by walking tokens, so that duplicate
// keys (which encoding/json would silently merge) are caught, and no value
// is decoded into more than it should be.
func parseHeader(b []byte) (*header, error) {
	if !utf8.Valid(b) {
		return nil, formatErr("", "header is not valid UTF-8")
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, formatErr("", "header does not start with '{'")
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(b))}
	p.dec.UseNumber()
	h, err := p.object()
	if err != nil {
		return nil, err
	}
	if rest := b[p.dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, formatErr("", "trailing data after the header's JSON object")
	}
	return h, nil
}

type parser struct {
	dec *json.Decoder
}

// object parses the top-level object: tensors and "__metadata__".
func (p *parser) object() (*header, error) {
	if err := p.delim('{', ""); err != nil {
		return nil, err
	}
	h := &header{}
	seen := make(map[string]bool)
	for p.dec.More() {
		key, err := p.key("")
		if err != nil {
			return nil, err
		}
		if seen[key] && key == metadataKey {
			return nil, formatErr("", metadataKey+" appears twice in the header")
		}
		if seen[key] {
			return nil, formatErr(key, "name appears twice in the header")
		}
		seen[key] = true
		if key == metadataKey {
			h.metadata, err = p.metadata()
		} else {
			var info Info
			info, err = p.tensor(key)
			h.infos = append(h.infos, info)
		}
		if err != nil {
			return nil, err
		}
	}
	return h, p.delim('}', "")
}

// metadata parses "__metadata__": an object of strings, or null (as the
// reference accepts). Its errors name no tensor.
func (p *parser) metadata() (map[string]string, error) {
	tok, err := p.token("")
	if err != nil || tok == nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, formatErr("", metadataKey+" is "+describe(tok)+", not an object of strings")
	}
	m := make(map[string]string)
	for p.dec.More() {
		key, err := p.key("")
		if err != nil {
			return nil, err
		}
		if _, dup := m[key]; dup {
			return nil, formatErr("", metadataKey+" key "+strconv.Quote(key)+" appears twice")
		}
		tok, err := p.token("")
		if err != nil {
			return nil, err
		}
		s, ok := tok.(string)
		if !ok {
			return nil, formatErr("", metadataKey+" value of "+strconv.Quote(key)+" is "+describe(tok)+", not a string")
		}
		m[key] = s
	}
	return m, p.delim('}', "")
}

// tensor parses one tensor's {"dtype", "shape", "data_offsets"} and checks
// that its offsets agree with its dtype and shape.
func (p *parser) tensor(name string) (Info, error) {
	info := Info{Name: name}
	if err := p.delim('{', name); err != nil {
		return info, err
	}
	var offsets []int64
	seen := make(map[string]bool)
	for p.dec.More() {
		field, err := p.key(name)
		if err != nil {
			return info, err
		}
		if seen[field] {
			return info, formatErr(name, "field "+strconv.Quote(field)+" appears twice")
		}
		seen[field] = true
		switch field {
		case "dtype":
			info.DType, err = p.dtype(name)
		case "shape":
			info.Shape, err = p.ints(name, field, math.MaxInt)
		case "data_offsets":
			offsets, err = p.ints64(name, field)
		default:
			err = formatErr(name, "unknown field "+strconv.Quote(field))
		}
		if err != nil {
			return info, err
		}
	}
	if err := p.delim('}', name); err != nil {
		return info, err
	}
	for _, f := range []string{"dtype", "shape", "data_offsets"} {
		if !seen[f] {
			return info, formatErr(name, "missing field "+strconv.Quote(f))
		}
	}
	if len(offsets) != 2 {
		return info, formatErr(name, fmt.Sprintf("data_offsets has %d entries, want 2", len(offsets)))
	}
	info.Begin, info.End = offsets[0], offsets[1]
	return info, checkSize(info)
}

// checkSize checks begin <= end and that end-begin is the byte size of the
// dtype and shape.
func checkSize(info Info) error {
	if info.Begin > info.End {
		return formatErr(info.Name, "data_offsets "+formatInts([]int64{info.Begin, info.End})+" begin after they end")
	}
	size, err := byteSize(info.DType, info.Shape)
	if err != nil {
		return formatErr(info.Name, err.Error())
	}
	if span := info.End - info.Begin; span != size {
		return formatErr(info.Name, fmt.Sprintf("data_offsets %s span %d bytes, but shape %s of %s needs %d",
			formatInts([]int64{info.Begin, info.End}), span, formatInts(info.Shape), info.DType, size))
	}
	return nil
}

func (p *parser) dtype(name string) (DType, error) {
	tok, err := p.token(name)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", formatErr(name, "dtype is "+describe(tok)+", not a string")
	}
	if _, ok := DType(s).Size(); !ok {
		return "", formatErr(name, "unknown dtype "+strconv.Quote(s))
	}
	return DType(s), nil
}

// ints parses an array of non-negative integers no larger than max.
func (p *parser) ints(name, field string, max uint64) ([]int, error) {
	v, err := p.uints(name, field, max)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out, nil
}

func (p *parser) ints64(name, field string) ([]int64, error) {
	v, err := p.uints(name, field, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out, nil
}

func (p *parser) uints(name, field string, max uint64) ([]uint64, error) {
	tok, err := p.token(name)
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, formatErr(name, field+" is "+describe(tok)+", not an array")
	}
	v := []uint64{}
	for p.dec.More() {
		tok, err := p.token(name)
		if err != nil {
			return nil, err
		}
		x, err := parseUint(tok, max)
		if err != nil {
			return nil, formatErr(name, field+": "+err.Error())
		}
		v = append(v, x)
	}
	return v, p.delim(']', name)
}

// parseUint accepts a JSON integer in [0, max].
func parseUint(tok json.Token, max uint64) (uint64, error) {
	num, ok := tok.(json.Number)
	if !ok {
		return 0, errors.New(describe(tok) + " is not a number")
	}
	s := string(num)
	if strings.HasPrefix(s, "-") {
		return 0, errors.New("negative value " + s)
	}
	x, err := strconv.ParseUint(s, 10, 64)
	if err != nil && strings.ContainsAny(s, ".eE") {
		return 0, errors.New(s + " is not an integer")
	}
	if err != nil || x > max {
		return 0, errors.New(s + " is too large")
	}
	return x, nil
}

// key reads an object key (json.Decoder guarantees keys are strings).
func (p *parser) key(tensor string) (string, error) {
	tok, err := p.token(tensor)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", formatErr(tensor, "found "+describe(tok)+", want an object key")
	}
	return s, nil
}

// delim reads the expected delimiter.
func (p *parser) delim(want json.Delim, tensor string) error {
	tok, err := p.token(tensor)
	if err != nil {
		return err
	}
	if tok != want {
		return formatErr(tensor, "found "+describe(tok)+", want '"+want.String()+"'")
	}
	return nil
}

func (p *parser) token(tensor string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, formatErr(tensor, "header JSON ends early")
	}
	if err != nil {
		return nil, formatErr(tensor, "header JSON: "+err.Error())
	}
	return tok, nil
}

// describe names a token for error messages.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		switch t {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return "'" + t.String() + "'"
	case string:
		return "string " + strconv.Quote(t)
	case json.Number:
		return "number " + string(t)
	case bool:
		return "boolean " + strconv.FormatBool(t)
	}
	return fmt.Sprintf("%v", tok)
}

func formatErr(tensor, msg string) *Error {
	return &Error{Tensor: tensor, Msg: msg, Err: ErrFormat}
}
