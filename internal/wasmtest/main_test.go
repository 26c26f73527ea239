//go:build !js

package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTestTimeout(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
		ok   bool
	}{
		{nil, 0, false},
		{[]string{"-test.v=true", "-test.timeout=10m0s"}, 10 * time.Minute, true},
		{[]string{"--test.timeout", "90s"}, 90 * time.Second, true},
		{[]string{"-test.timeout=0s"}, 0, true},
		{[]string{"-test.timeout"}, 0, false},
		{[]string{"-test.timeout=soon"}, 0, false},
		{[]string{"-test.run", "-test.timeout=1s"}, time.Second, true},
	} {
		if got, ok := testTimeout(tc.args); got != tc.want || ok != tc.ok {
			t.Errorf("testTimeout(%q) = %v, %v; want %v, %v", tc.args, got, ok, tc.want, tc.ok)
		}
	}
}

func TestProgramEnv(t *testing.T) {
	environ := []string{
		"HOME=/root", "SECRET=x", "CIFARLAB_REQUIRE=webgpu", "CIFARLAB_EMPTY=",
		"GODEBUG=gctrace=1", "WASMTEST_ENV=EXTRA, HOME", "EXTRA=1=2",
	}
	got := strings.Join(programEnv(environ), " ")
	want := "CIFARLAB_REQUIRE=webgpu EXTRA=1=2 GODEBUG=gctrace=1 HOME=/root"
	if got != want {
		t.Errorf("programEnv = %q, want %q", got, want)
	}
}

func TestFlagsChangeDefaults(t *testing.T) {
	cfg := &config{chromium: "chromium", extraFlags: []string{"--enable-unsafe-webgpu=false", "--headless=old", "--use-angle=swiftshader"}}
	_, flags, err := allocatorOptions(cfg, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(flags, " ")
	if strings.Contains(got, "enable-unsafe-webgpu") || !strings.Contains(got, "--headless=old") ||
		strings.Contains(got, "--headless=new") || !strings.HasSuffix(got, "--use-angle=swiftshader") {
		t.Errorf("flags = %s", got)
	}
	cfg.extraFlags = []string{"headless"}
	if _, _, err := allocatorOptions(cfg, &bytes.Buffer{}); err == nil {
		t.Error("a flag without -- was accepted")
	}
}

func TestMissingChromium(t *testing.T) {
	wasm := filepath.Join(t.TempDir(), "p.wasm")
	if err := os.WriteFile(wasm, []byte("\x00asm"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runWasmtest(t, []string{"-chromium", "/nonexistent/chromium", wasm}, nil)
	r.wantCode(t, exitHarness)
	r.wantOutput(t, `chromium "/nonexistent/chromium"`)
}

// The tests below run programs in Chromium, only when CIFARLAB_REQUIRE names
// chromium (see needChromium).

func TestPassingProgram(t *testing.T) {
	t.Parallel()
	r := runWasmtest(t, []string{program(t, "pass"), "-test.v"}, []string{"CIFARLAB_WASMTEST=passed through", "HOME=/not/passed"})
	r.wantCode(t, 0)
	for _, want := range []string{
		"stdout: hello from the browser\n",
		`env CIFARLAB_WASMTEST="passed through"`,
		`env HOME=""`,
		"--- PASS: TestPass",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if want := "stderr: no newline at the end\n"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q", want)
	}
}

func TestFailingProgram(t *testing.T) {
	t.Parallel()
	r := runWasmtest(t, []string{program(t, "fail"), "-test.v"}, nil)
	r.wantCode(t, 1)
	r.wantOutput(t, "this one passes", "--- PASS: TestPasses", "failing on purpose: 1 != 2", "--- FAIL: TestFails")
}

func TestPanickingProgram(t *testing.T) {
	t.Parallel()
	r := runWasmtest(t, []string{program(t, "panic")}, nil)
	r.wantCode(t, 2)
	r.wantOutput(t, "--- FAIL: TestPanics", "panic: assignment to entry in nil map", "panic_test.go:")
}

func TestPageException(t *testing.T) {
	t.Parallel()
	r := runWasmtest(t, []string{program(t, "throw"), "-test.v"}, nil)
	r.wantCode(t, exitHarness)
	r.wantOutput(t, "=== RUN   TestPageThrows", "uncaught exception in the page: Uncaught Error: thrown on purpose")
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ test, want string }{
		{"TestIdle", "the page is idle"},
		{"TestBusy", "the page does not answer"},
	} {
		start := time.Now()
		r := runWasmtest(t, []string{"-timeout", "3s", program(t, "hang"), "-test.run", tc.test}, nil)
		r.wantCode(t, exitHarness)
		r.wantOutput(t, "timed out after 3s: "+tc.want)
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s: a timeout of 3s took %v", tc.test, d)
		}
	}
}

func TestRequiredWebGPUMissing(t *testing.T) {
	t.Parallel()
	args := []string{"-chromium-flags", "--enable-unsafe-webgpu=false", program(t, "pass")}
	r := runWasmtest(t, args, []string{"CIFARLAB_REQUIRE=testdata,webgpu"})
	r.wantCode(t, exitHarness)
	r.wantOutput(t, "WebGPU is required", "requestAdapter() returned null")
	if strings.Contains(r.stdout, "hello from the browser") {
		t.Error("the program ran without the WebGPU it requires")
	}

	r = runWasmtest(t, args, nil) // not required: runs
	r.wantCode(t, 0)
}

// TestLargeProgram loads a 48 MB program, which WebAssembly.instantiateStreaming
// compiles as it arrives.
func TestLargeProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 48 MB program")
	}
	needChromium(t)
	t.Parallel()
	dir := t.TempDir()
	blob := make([]byte, 40<<20)
	rand.Read(blob)
	files := map[string]string{
		"go.mod": "module large\n\ngo 1.24\n",
		"large_test.go": fmt.Sprintf(`package large

import (
	"crypto/sha256"
	_ "embed"
	"fmt"
	"testing"
)

//go:embed blob.bin
var blob []byte

func TestBlob(t *testing.T) {
	if got := fmt.Sprintf("%%x", sha256.Sum256(blob)); got != %q {
		t.Fatalf("blob hash %%s", got)
	}
	fmt.Println("large program ran")
}
`, fmt.Sprintf("%x", sha256.Sum256(blob))),
		"blob.bin": string(blob),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasm := filepath.Join(dir, "large.wasm")
	buildWasm(t, dir, ".", wasm)
	if info, err := os.Stat(wasm); err != nil || info.Size() < 40<<20 {
		t.Fatalf("large.wasm: %v, %v", info, err)
	}
	r := runWasmtest(t, []string{wasm}, nil)
	r.wantCode(t, 0)
	r.wantOutput(t, "large program ran")
}

// TestGoTestExec runs wasmtest as go test runs it, through -exec.
func TestGoTestExec(t *testing.T) {
	needChromium(t)
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "wasmtest")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command("go", "test", "-count=1", "-exec", bin, "./testdata/pass", "./testdata/fail")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("go test passed a failing package:\n%s", out)
	}
	for _, want := range []string{
		"ok  \tcifarlab/internal/wasmtest/testdata/pass",
		"failing on purpose: 1 != 2",
		"FAIL\tcifarlab/internal/wasmtest/testdata/fail",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("go test output lacks %q:\n%s", want, out)
		}
	}
}

// result is what one run of wasmtest did.
type result struct {
	code           int
	stdout, stderr string
}

func (r *result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// wantOutput checks that standard output and error together hold each of want.
func (r *result) wantOutput(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
		}
	}
}

// runWasmtest runs wasmtest in this process with args and the environment
// of the test plus env, less CIFARLAB_REQUIRE, which only env can set.
func runWasmtest(t *testing.T, args, env []string) *result {
	t.Helper()
	environ := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "CIFARLAB_REQUIRE=")
	})
	var stdout, stderr bytes.Buffer
	code := run(args, append(environ, env...), &stdout, &stderr)
	return &result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// needChromium skips a test that starts Chromium unless CIFARLAB_REQUIRE
// names chromium (make test-browser sets it, make test does not); then a
// missing Chromium fails it.
func needChromium(t *testing.T) {
	t.Helper()
	if !listHas(os.Getenv("CIFARLAB_REQUIRE"), "chromium") {
		t.Skip("starts Chromium: runs when CIFARLAB_REQUIRE names chromium, as in make test-browser")
	}
	if _, err := findChromium(os.Getenv("WASMTEST_CHROMIUM")); err != nil {
		t.Fatalf("%v (CIFARLAB_REQUIRE=chromium makes this a failure)", err)
	}
}

var (
	programsMu sync.Mutex
	programs   = map[string]*programBuild{}
)

type programBuild struct {
	once sync.Once
	path string
	err  error
}

// program builds testdata/name for js/wasm once per run and returns its path.
func program(t *testing.T, name string) string {
	t.Helper()
	needChromium(t)
	programsMu.Lock()
	b := programs[name]
	if b == nil {
		b = &programBuild{}
		programs[name] = b
	}
	programsMu.Unlock()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "wasmtest-"+name+"-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, name+".wasm")
		b.err = goTestC(".", "./testdata/"+name, b.path)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func buildWasm(t *testing.T, dir, pkg, out string) {
	t.Helper()
	if err := goTestC(dir, pkg, out); err != nil {
		t.Fatal(err)
	}
}

// goTestC compiles the tests of pkg (from dir) for js/wasm into out.
func goTestC(dir, pkg, out string) error {
	cmd := exec.Command("go", "test", "-c", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c %s for js/wasm: %v\n%s", pkg, err, b)
	}
	return nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range programs {
		if b.path != "" {
			os.RemoveAll(filepath.Dir(b.path))
		}
	}
	os.Exit(code)
}
