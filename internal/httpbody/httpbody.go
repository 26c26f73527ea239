// Package httpbody is one file as cifarlab's server sends it: its bytes,
// their hash, and the encodings that are smaller (gzip made here, zstd or
// br from precompressed copies), the smallest one the request accepts
// chosen, with a strong ETag and 304 for a matching If-None-Match.
package httpbody

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Body is one file as served: its bytes, their hash, and the encodings
// that are smaller (gzip, and zstd or br from sidecar files). A Body is
// never changed once made.
type Body struct {
	Type      string
	Raw       []byte
	Hash      string     // hex SHA-256 of Raw
	encodings []encoding // each smaller than Raw
}

// encoding is a Body's bytes in one content coding.
type encoding struct {
	coding string // "gzip", "zstd" or "br"
	data   []byte
}

// New is the body of raw, of content type typ.
func New(typ string, raw []byte) *Body {
	sum := sha256.Sum256(raw)
	return &Body{Type: typ, Raw: raw, Hash: hex.EncodeToString(sum[:])}
}

// With is b with data added as its encoding in coding, or b itself when
// data is nil or not smaller than the raw bytes.
func (b *Body) With(coding string, data []byte) *Body {
	if data == nil || len(data) >= len(b.Raw) {
		return b
	}
	c := *b
	c.encodings = append(slices.Clip(b.encodings), encoding{coding, data})
	return &c
}

// ETag is the strong ETag of the body in coding ("" for the raw bytes).
func (b *Body) ETag(coding string) string {
	if coding == "" {
		return `"` + b.Hash + `"`
	}
	return `"` + b.Hash + "-" + coding + `"`
}

// choose picks the smallest encoding that Accept-Encoding values allow,
// else the raw bytes (coding "").
func (b *Body) choose(accept []string) (data []byte, coding string) {
	data = b.Raw
	for _, e := range b.encodings {
		if len(e.data) < len(data) && accepts(accept, e.coding) {
			data, coding = e.data, e.coding
		}
	}
	return data, coding
}

// Gzip compresses raw, returning nil if that would not save at least
// 1/32 of it or if ctx ends first.
func Gzip(ctx context.Context, raw []byte, level int) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		panic(err) // a programmer's error: an invalid level
	}
	const chunk = 1 << 20
	for off := 0; off < len(raw); off += chunk {
		if ctx.Err() != nil {
			return nil
		}
		zw.Write(raw[off:min(off+chunk, len(raw))]) // a bytes.Buffer does not fail
	}
	zw.Close()
	if buf.Len() >= len(raw)-len(raw)/32 {
		return nil
	}
	return buf.Bytes()
}

// Send writes b in the smallest encoding the request accepts, or 304 when
// the request's If-None-Match names what would be sent.
func (b *Body) Send(w http.ResponseWriter, r *http.Request) {
	data, coding := b.choose(r.Header.Values("Accept-Encoding"))
	etag := b.ETag(coding)
	h := w.Header()
	h.Set("Content-Type", b.Type)
	h.Set("Cache-Control", "no-cache")
	h.Add("Vary", "Accept-Encoding")
	if coding != "" {
		h.Set("Content-Encoding", coding)
	}
	h.Set("ETag", etag)
	if etagListed(strings.Join(r.Header.Values("If-None-Match"), ","), etag) {
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// accepts reports whether Accept-Encoding values allow coding (gzip also
// spelled x-gzip): named with a q-value above 0, or else * is.
func accepts(values []string, coding string) bool {
	named, star := -1.0, -1.0
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			c, params, _ := strings.Cut(part, ";")
			c = strings.ToLower(strings.TrimSpace(c))
			if c == "x-gzip" {
				c = "gzip"
			}
			switch c {
			case coding:
				named = max(named, qValue(params))
			case "*":
				star = max(star, qValue(params))
			}
		}
	}
	if named >= 0 {
		return named > 0
	}
	return star > 0
}

// qValue is the q parameter of one Accept-Encoding element (1 when absent,
// 0 when malformed).
func qValue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 {
			return 0
		}
		return q
	}
	return 1
}

// etagListed reports whether an If-None-Match list names etag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is "*".
func etagListed(list, etag string) bool {
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
