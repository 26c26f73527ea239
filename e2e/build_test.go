package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// root is the module's folder, relative to this package's.
const root = ".."

// built is what the tests serve: the cifarlab binary and the site folder.
type built struct {
	cifarlab string
	site     string
	codings  map[string]bool // the encodings of the wasm's sidecars: zstd, br
}

var build struct {
	once sync.Once
	dir  string // removed by TestMain
	out  built
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// buildAll builds the binary and the site once for all tests.
func buildAll(t *testing.T) built {
	t.Helper()
	build.once.Do(func() {
		start := time.Now()
		build.dir, build.err = os.MkdirTemp("", "cifarlab-e2e-")
		if build.err == nil {
			build.out, build.err = buildInto(build.dir)
		}
		if build.err == nil {
			t.Logf("built cifarlab and the site in %v", time.Since(start).Round(time.Millisecond))
		}
	})
	if build.err != nil {
		t.Fatalf("build: %v", build.err)
	}
	return build.out
}

func buildInto(dir string) (built, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return built{}, fmt.Errorf("the tests build cifarlab and its wasm with go, not on PATH: %w", err)
	}
	b := built{cifarlab: filepath.Join(dir, "cifarlab"), site: filepath.Join(dir, "site")}
	if err := runIn(nil, goCmd, "build", "-o", b.cifarlab, "."); err != nil {
		return built{}, err
	}
	if b.codings, err = buildSite(goCmd, b.site); err != nil {
		return built{}, err
	}
	return b, nil
}

// buildSite writes a site folder as make site does: the page's files, the
// modules built from ./wasm and ./wasm/worker, Go's wasm_exec.js and the
// modules' sidecars whose tools are installed (see compressWasm), whose
// encodings it returns.
func buildSite(goCmd, site string) (map[string]bool, error) {
	if err := os.MkdirAll(site, 0o755); err != nil {
		return nil, err
	}
	for _, name := range []string{"index.html", "cifarlab.js", "cifarlab-worker.js", "cifarlab-simd.js"} {
		if err := copyFile(filepath.Join(root, "site", name), filepath.Join(site, name)); err != nil {
			return nil, fmt.Errorf("the page's own files, in git beside the built ones: %w", err)
		}
	}
	goroot, err := output(goCmd, "env", "GOROOT")
	if err != nil {
		return nil, err
	}
	if err := copyFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"), filepath.Join(site, "wasm_exec.js")); err != nil {
		return nil, err
	}
	var codings map[string]bool
	for _, m := range []struct{ name, pkg string }{{"cifarlab.wasm", "./wasm"}, {"cifarlab-worker.wasm", "./wasm/worker"}} {
		wasm := filepath.Join(site, m.name)
		env := []string{"GOOS=js", "GOARCH=wasm"}
		if err := runIn(env, goCmd, "build", "-ldflags=-s -w", "-trimpath", "-o", wasm, m.pkg); err != nil {
			return nil, err
		}
		if codings, err = compressWasm(wasm); err != nil {
			return nil, err
		}
	}
	return codings, nil
}

// sidecar is a precompressed copy of the wasm that make site writes when
// its tool is installed, and the server sends to browsers that accept its
// encoding.
type sidecar struct {
	ext, coding, tool string
	args              []string // then -c IN, writing to standard output
}

// The tools write to standard output, as in make site: with -o, brotli
// gives its output the input's modification time to the second, which can
// make it older than the input, and the server sends no sidecar older than
// its file.
var sidecars = []sidecar{
	{".zst", "zstd", "zstd", []string{"-q", "-19", "-T0"}},
	{".br", "br", "brotli", []string{"-q", "9", "-w", "24"}},
}

// compressWasm writes the sidecars of wasm as make site does, or copies
// those of the module of the same name in site/ when it is the same module
// and they are not older. It returns the encodings written; a sidecar whose tool is not
// installed is left out.
func compressWasm(wasm string) (map[string]bool, error) {
	made, err := os.ReadFile(wasm)
	if err != nil {
		return nil, err
	}
	have := filepath.Join(root, "site", filepath.Base(wasm))
	old, err := os.ReadFile(have)
	same := err == nil && bytes.Equal(old, made)
	codings := map[string]bool{}
	for _, sc := range sidecars {
		if same && notOlder(have+sc.ext, have) {
			if err := copyFile(have+sc.ext, wasm+sc.ext); err != nil {
				return nil, err
			}
			codings[sc.coding] = true
			continue
		}
		tool, err := exec.LookPath(sc.tool)
		if err != nil {
			continue
		}
		if err := compressTo(wasm+sc.ext, tool, append(sc.args, "-c", wasm)...); err != nil {
			return nil, err
		}
		codings[sc.coding] = true
	}
	return codings, nil
}

// compressTo runs a compressor that writes to standard output into the
// file out.
func compressTo(out, tool string, args ...string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	cmd := exec.Command(tool, args...)
	cmd.Stdout = f
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, &stderr)
	}
	return nil
}

// notOlder reports whether the file a exists and is not older than b.
func notOlder(a, b string) bool {
	ai, aerr := os.Stat(a)
	bi, berr := os.Stat(b)
	return aerr == nil && berr == nil && !ai.ModTime().Before(bi.ModTime())
}

// runIn runs a command in the module's folder with env added.
func runIn(env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", strings.Join(env, " "), strings.Join(cmd.Args, " "), err, out)
	}
	return nil
}

func output(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}
