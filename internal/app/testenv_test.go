package app_test

import (
	"testing"

	"cifarlab/internal/testenv"
)

func testenvData(t *testing.T) string { return testenv.Data(t) }
