//go:build !linux && !darwin

package main

// maxRSSMiB is unknown here.
func maxRSSMiB() float64 { return 0 }
