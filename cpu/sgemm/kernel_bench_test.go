package sgemm

import (
	"fmt"
	"testing"
)

// BenchmarkKernel times each micro-kernel alone on packed panels that stay
// in L1: the ceiling for Gemm on one core.
func BenchmarkKernel(b *testing.B) {
	for _, kn := range kernels {
		b.Run(fmt.Sprintf("%s_%dx%d", kn.name, kn.mr, kn.nr), func(b *testing.B) {
			kc := kn.kc
			a := make([]float32, kc*kn.mr)
			bp := make([]float32, kc*kn.nr)
			c := make([]float32, kn.mr*kn.nr)
			for b.Loop() {
				kn.fn(kc, a, bp, kn.nr, c, kn.nr, true, 1)
			}
			b.ReportMetric(2*float64(kn.mr*kn.nr*kc*b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
