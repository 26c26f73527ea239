package vec

import "math"

func bits(f float32) uint32     { return math.Float32bits(f) }
func fromBits(u uint32) float32 { return math.Float32frombits(u) }

// b2u is 1 for true and 0 for false (compiled to a SETcc).
func b2u(c bool) uint32 {
	if c {
		return 1
	}
	return 0
}
