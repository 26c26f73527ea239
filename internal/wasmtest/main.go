//go:build !js

// Command wasmtest runs a Go program compiled for GOOS=js GOARCH=wasm, usually
// a test binary, in headless Chromium with WebGPU, as `go test -exec` expects:
//
//	go build -o bin/wasmtest ./internal/wasmtest
//	GOOS=js GOARCH=wasm go test -exec "$PWD/bin/wasmtest" ./somepkg
//
// It serves the program, wasm_exec.js and a small page on 127.0.0.1, opens the
// page in a fresh Chromium (a temporary profile, removed afterwards), runs the
// program with the given arguments, copies its standard output and error to
// its own, and exits with the program's exit status. Console messages of the
// page go to standard error; an uncaught exception, a crash of the page or
// of Chromium, or a timeout fails the run.
//
// Usage:
//
//	wasmtest [flags] program.wasm [program arguments]
//
// Flags (each has an environment variable, which the flag overrides, so that
// `go test -exec bin/wasmtest` can be tuned without changing the command):
//
//	-timeout D         WASMTEST_TIMEOUT: give up after D; by default the
//	                   program's -test.timeout plus 30s, or 10m without one
//	-chromium PATH     WASMTEST_CHROMIUM: the browser binary (default: the first
//	                   of /usr/lib/chromium/chromium, chromium, chromium-browser,
//	                   google-chrome, google-chrome-stable)
//	-chromium-flags F  WASMTEST_CHROMIUM_FLAGS: more browser flags, space-separated;
//	                   --name=false drops one of wasmtest's own
//	-require-webgpu    fail unless the page gets a WebGPU adapter; also on when
//	                   CIFARLAB_REQUIRE names webgpu
//	-v                 WASMTEST_VERBOSE=1: report the browser, the WebGPU adapter,
//	                   timings and Chromium's own output on standard error
//
// The program sees the variables CIFARLAB_*, GODEBUG, GOTRACEBACK, GOGC and
// GOMEMLIMIT of the environment, and those that WASMTEST_ENV names
// (comma-separated). It has no file system: files such as testdata/ cannot be
// opened.
//
// Exit status: the program's own, or 3 when wasmtest could not run it
// (Chromium missing or failing, the page throwing, WebGPU missing when
// required, a timeout, a signal).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// exitHarness is the status of a run that failed outside the program.
const exitHarness = 3

// defaultTimeout bounds a run whose program has no -test.timeout.
const defaultTimeout = 10 * time.Minute

// timeoutMargin is how long wasmtest waits past the program's -test.timeout,
// so that the test binary's own timeout (with its goroutine dump) comes first;
// go test kills the run one minute after it.
const timeoutMargin = 30 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

// config is one run of a program.
type config struct {
	binary      string   // the .wasm program
	args        []string // its arguments, after argv[0]
	env         []string // its environment, NAME=value
	wasmExec    string   // wasm_exec.js of the Go that built the program
	chromium    string   // the browser binary
	extraFlags  []string // more browser flags, "--name[=value]"
	timeout     time.Duration
	needWebGPU  bool
	verbose     bool
	checkWebGPU bool // ask for an adapter before the program starts
}

// run is main without the exit, with the environment environ.
func run(args, environ []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, environ, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "wasmtest: %v\n", err)
		return exitHarness
	}
	code, err := runProgram(cfg, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "wasmtest: %v\n", err)
		return exitHarness
	}
	return code
}

// parseConfig reads the flags, the environment and the program's arguments,
// and finds Chromium and wasm_exec.js.
func parseConfig(args, environ []string, stderr io.Writer) (*config, error) {
	getenv := lookup(environ)
	fs := flag.NewFlagSet("wasmtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: wasmtest [flags] program.wasm [program arguments]")
		fmt.Fprintln(stderr, "runs a GOOS=js GOARCH=wasm program in headless Chromium; for go test -exec")
		fs.PrintDefaults()
	}
	timeout := fs.Duration("timeout", 0, "give up after this long (WASMTEST_TIMEOUT; default: the program's -test.timeout + 30s, else 10m)")
	chromium := fs.String("chromium", getenv("WASMTEST_CHROMIUM"), "the Chromium binary (WASMTEST_CHROMIUM)")
	flags := fs.String("chromium-flags", getenv("WASMTEST_CHROMIUM_FLAGS"), "more Chromium flags, space-separated; --name=false drops one (WASMTEST_CHROMIUM_FLAGS)")
	needWebGPU := fs.Bool("require-webgpu", listHas(getenv("CIFARLAB_REQUIRE"), "webgpu"), "fail unless WebGPU gives an adapter (also CIFARLAB_REQUIRE=webgpu)")
	verbose := fs.Bool("v", isTrue(getenv("WASMTEST_VERBOSE")), "report browser, adapter, timings and Chromium's output (WASMTEST_VERBOSE=1)")
	if s := getenv("WASMTEST_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("WASMTEST_TIMEOUT: %w", err)
		}
		*timeout = d
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return nil, errors.New("no program to run")
	}
	cfg := &config{
		binary:     fs.Arg(0),
		args:       fs.Args()[1:],
		env:        programEnv(environ),
		extraFlags: strings.Fields(*flags),
		timeout:    *timeout,
		needWebGPU: *needWebGPU,
		verbose:    *verbose,
	}
	cfg.checkWebGPU = cfg.needWebGPU || cfg.verbose
	if cfg.timeout <= 0 {
		cfg.timeout = defaultTimeout
		if d, ok := testTimeout(cfg.args); ok && d > 0 {
			cfg.timeout = d + timeoutMargin
		}
	}
	if info, err := os.Stat(cfg.binary); err != nil {
		return nil, fmt.Errorf("program: %w", err)
	} else if info.IsDir() {
		return nil, fmt.Errorf("program %s is a directory", cfg.binary)
	}
	var err error
	if cfg.chromium, err = findChromium(*chromium); err != nil {
		return nil, err
	}
	if cfg.wasmExec, err = findWasmExec(getenv); err != nil {
		return nil, err
	}
	return cfg, nil
}

// testTimeout finds -test.timeout among a test binary's arguments.
func testTimeout(args []string) (time.Duration, bool) {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if name != "test.timeout" && name != "-test.timeout" {
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return 0, false
			}
			value = args[i+1]
		}
		d, err := time.ParseDuration(value)
		return d, err == nil
	}
	return 0, false
}

// passedEnv names the variables that reach the program besides CIFARLAB_*.
var passedEnv = []string{"GODEBUG", "GOTRACEBACK", "GOGC", "GOMEMLIMIT"}

// programEnv is the environment of the program: CIFARLAB_*, passedEnv and
// the names in WASMTEST_ENV, when set.
func programEnv(environ []string) []string {
	getenv := lookup(environ)
	names := slices.Clone(passedEnv)
	for _, kv := range environ {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "CIFARLAB_") {
			names = append(names, name)
		}
	}
	for n := range strings.SplitSeq(getenv("WASMTEST_ENV"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var env []string
	for _, n := range slices.Compact(names) {
		if v := getenv(n); v != "" {
			env = append(env, n+"="+v)
		}
	}
	return env
}

// chromiumCandidates are tried in order when no browser is named. Debian's
// /usr/bin/chromium is a shell script that adds flags of its own
// (--enable-gpu-rasterization, --load-extension=…), so its real binary comes
// first: the browser then gets exactly the flags of browserFlags.
var chromiumCandidates = []string{
	"/usr/lib/chromium/chromium",
	"chromium",
	"chromium-browser",
	"google-chrome",
	"google-chrome-stable",
}

func findChromium(named string) (string, error) {
	if named != "" {
		path, err := exec.LookPath(named)
		if err != nil {
			return "", fmt.Errorf("chromium %q: %w", named, err)
		}
		return path, nil
	}
	for _, c := range chromiumCandidates {
		if path, err := exec.LookPath(c); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no Chromium found (tried %s): install it (Debian: apt-get install chromium) or set WASMTEST_CHROMIUM",
		strings.Join(chromiumCandidates, ", "))
}

// findWasmExec finds the wasm_exec.js of the Go that runs this go test: the
// go command puts its own bin first in $PATH and sets no GOROOT, so `go env
// GOROOT` names the right one; $GOROOT wins when set.
func findWasmExec(getenv func(string) string) (string, error) {
	goroot := getenv("GOROOT")
	if goroot == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			return "", fmt.Errorf("find GOROOT for wasm_exec.js (go env GOROOT): %w", err)
		}
		goroot = strings.TrimSpace(string(out))
	}
	var tried []string
	for _, rel := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
		path := filepath.Join(goroot, rel)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
		tried = append(tried, path)
	}
	return "", fmt.Errorf("no wasm_exec.js in GOROOT (tried %s)", strings.Join(tried, ", "))
}

// lookup is os.Getenv over environ: the last NAME=value wins.
func lookup(environ []string) func(string) string {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	return func(name string) string { return vars[name] }
}

// listHas reports whether the comma-separated list names what.
func listHas(list, what string) bool {
	return slices.Contains(strings.Split(list, ","), what)
}

func isTrue(s string) bool {
	return s != "" && s != "0" && !strings.EqualFold(s, "false")
}
