package cpu_test

import (
	"testing"

	"cifarlab/cpu"
	"cifarlab/net/backendtest"
)

// Whole training steps with one thread (another summation order in the
// matrix products and reductions) match those with every thread.
func TestTrainingStepsAcrossThreadCounts(t *testing.T) {
	ref := cpu.New()
	defer ref.Close()
	one := cpu.NewWithThreads(1)
	defer one.Close()
	backendtest.CheckTraining(t, one, ref, backendtest.Standard)
}
