package shaders

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/gogpu/naga"
)

// TestCompile compiles every shader with naga, the WGSL compiler gogpu uses
// natively, so that a syntax or type error shows without a GPU.
func TestCompile(t *testing.T) {
	files, err := fs.Glob(FS, "*.wgsl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no embedded shaders (%v)", err)
	}
	for _, name := range files {
		t.Run(strings.TrimSuffix(name, ".wgsl"), func(t *testing.T) {
			src, err := fs.ReadFile(FS, name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := naga.Compile(string(src)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		})
	}
}

// TestEmbedded checks that each exported source is its file.
func TestEmbedded(t *testing.T) {
	for name, src := range map[string]string{
		"elementwise.wgsl":  Elementwise,
		"gather.wgsl":       Gather,
		"softmax_xent.wgsl": SoftmaxXent,
		"adam.wgsl":         Adam,
		"pool.wgsl":         Pool,
		"batchnorm.wgsl":    BatchNorm,
		"matmul.wgsl":       Matmul,
		"conv.wgsl":         Conv,
		"reduce.wgsl":       Reduce,
	} {
		b, err := fs.ReadFile(FS, name)
		if err != nil || string(b) != src || src == "" {
			t.Errorf("%s: exported source differs from the embedded file (%v)", name, err)
		}
	}
}
