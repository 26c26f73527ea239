// Package testenv finds what some tests need beyond Go: real CIFAR-10,
// PyTorch, a GPU adapter, a virtual X display, Chromium with WebGPU and
// zstd. Without them a test skips with a message, unless the variable
// CIFARLAB_REQUIRE names them (as CI does), and then it fails.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// required reports whether CIFARLAB_REQUIRE (comma-separated) names what.
func required(what string) bool {
	return slices.Contains(strings.Split(os.Getenv("CIFARLAB_REQUIRE"), ","), what)
}

func missing(t testing.TB, what, msg string) {
	t.Helper()
	if required(what) {
		t.Fatalf("%s (CIFARLAB_REQUIRE=%s makes this a failure)", msg, os.Getenv("CIFARLAB_REQUIRE"))
	}
	t.Skip(msg)
}

// Data returns the folder of real CIFAR-10 test data ($CIFARLAB_TESTDATA,
// laid out as ../shared/cifar10: cifar-10-jpeg.tar.gz and exact/).
func Data(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CIFARLAB_TESTDATA")
	if dir == "" {
		missing(t, "testdata", "real CIFAR-10 not found: set CIFARLAB_TESTDATA to the shared cifar10 folder (make test does when ../shared/cifar10 exists)")
	}
	if _, err := os.Stat(filepath.Join(dir, "exact", "test_batch.bin")); err != nil {
		missing(t, "testdata", "CIFARLAB_TESTDATA="+dir+" does not hold exact/test_batch.bin: "+err.Error())
	}
	return dir
}

// Torch returns a Python interpreter that imports torch and numpy.
func Torch(t testing.TB) string {
	t.Helper()
	for _, py := range []string{os.Getenv("CIFARLAB_PYTHON"), "/usr/bin/python3", "python3"} {
		if py == "" {
			continue
		}
		if path, err := exec.LookPath(py); err == nil && exec.Command(path, "-c", "import torch, numpy").Run() == nil {
			return path
		}
	}
	missing(t, "torch", "no Python with torch and numpy (Debian: apt-get install python3-torch python3-numpy; or set CIFARLAB_PYTHON)")
	return ""
}

// GPU reports that the GPU backend could not open a device (err says why):
// the test skips, or fails when CIFARLAB_REQUIRE names gpu.
func GPU(t testing.TB, err error) {
	t.Helper()
	missing(t, "gpu", "no usable GPU adapter (Debian: apt-get install mesa-vulkan-drivers gives the lavapipe CPU emulation): "+err.Error())
}

// Xvfb returns the command line that runs a program on a virtual X display
// of the viewer's size, 1280×800 (Debian: apt-get install xvfb xauth; xvfb
// pulls in Mesa's software OpenGL, which ebiten draws with).
func Xvfb(t testing.TB) []string {
	t.Helper()
	for _, cmd := range []string{"xvfb-run", "xauth"} {
		if _, err := exec.LookPath(cmd); err != nil {
			missing(t, "xvfb", "no "+cmd+" on PATH: the desktop viewer's test needs a virtual X display (Debian: apt-get install xvfb xauth)")
		}
	}
	return []string{"xvfb-run", "-a", "-s", "-screen 0 1280x800x24"}
}

// Chromium returns the Chromium binary on PATH (chromium, or
// chromium-browser as some distributions name it); CIFARLAB_REQUIRE names
// it as chromium.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	missing(t, "chromium", "no chromium on PATH: the browser tests need headless Chromium (Debian: apt-get install chromium)")
	return ""
}

// WebGPU reports that a browser offered no usable WebGPU (why says what it
// did instead): the test skips, or fails when CIFARLAB_REQUIRE names webgpu.
func WebGPU(t testing.TB, why string) {
	t.Helper()
	missing(t, "webgpu", "no WebGPU in Chromium (it needs --enable-unsafe-webgpu on Linux, and SwiftShader or a GPU): "+why)
}

// Zstd returns the zstd command on PATH.
func Zstd(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("zstd")
	if err != nil {
		missing(t, "zstd", "no zstd on PATH: it compresses the page's wasm as make site does (Debian: apt-get install zstd)")
	}
	return path
}
