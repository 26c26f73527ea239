package httpbody

import "testing"

func TestAccepts(t *testing.T) {
	for _, tc := range []struct {
		values []string
		coding string
		want   bool
	}{
		{nil, "gzip", false},
		{[]string{"gzip"}, "gzip", true},
		{[]string{"GZIP"}, "gzip", true},
		{[]string{"x-gzip"}, "gzip", true},
		{[]string{"deflate", "gzip;q=0.5"}, "gzip", true},
		{[]string{"gzip; q=0"}, "gzip", false},
		{[]string{"gzip;q=0.000"}, "gzip", false},
		{[]string{"gzip;q=bad"}, "gzip", false},
		{[]string{"*;q=0.1"}, "gzip", true},
		{[]string{"*;q=0"}, "gzip", false},
		{[]string{"gzip;q=0, *"}, "gzip", false},
		{[]string{"identity, br"}, "gzip", false},
		{[]string{"gzip, deflate, br, zstd"}, "zstd", true},
		{[]string{"gzip, deflate, br, zstd"}, "br", true},
		{[]string{"gzip, deflate, br"}, "zstd", false},
		{[]string{"zstd;q=0, *"}, "zstd", false},
		{[]string{"zstd"}, "zst", false},
	} {
		if got := accepts(tc.values, tc.coding); got != tc.want {
			t.Errorf("accepts(%q, %s) = %v", tc.values, tc.coding, got)
		}
	}
}
