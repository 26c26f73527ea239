// Command cifarlab trains LeNet5 and ResNet18 on CIFAR-10 exactly as the
// reference PyTorch code does, evaluates and uses the trained models, and
// measures their speed.
//
//	cifarlab train   -model lenet5|resnet18 [-data PATH] [-epochs N] …
//	cifarlab eval    -model M -weights W [-data PATH] [-json]
//	cifarlab predict -model M -weights W (-data PATH [-n N] | IMAGE …) [-json]
//	cifarlab summary -model M
//	cifarlab compare -models resnet20,plain20 -epochs E [-data PATH] -out DIR
//	cifarlab bench   -model M [-batch 256] [-steps N] [-device …] [-json]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
)

// command is one subcommand.
type command struct {
	name, usage string
	run         func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"train", "train a model, evaluating on the test split after every epoch", runTrain},
	{"eval", "test accuracy, loss, per-class accuracy and confusion matrix of saved weights", runEval},
	{"predict", "top-3 classes of images", runPredict},
	{"summary", "the layers of a model with their output shapes and parameter counts", runSummary},
	{"bench", "time whole training steps and eval forwards on random data", runBench},
	{"compare", compareUsage, runCompare},
	{"serve", "serve the in-browser trainer (site/) and CIFAR-10 for it on 127.0.0.1:8080", runServe},
	{"site", siteUsage, runSite},
	{"desktop", desktopUsage, runDesktop},
}

func main() {
	if !needsMainThread(os.Args[1:]) {
		// ebiten's desktop UI locks the main goroutine to the main OS
		// thread in an init function (it must draw there), and in a binary
		// that links it (make build) that lock holds for every subcommand.
		// The CPU backend forks and joins goroutines several times per op;
		// on a locked main goroutine every join hands the processor over
		// between OS threads, which made a LeNet5 training step on the CPU
		// 1.6–1.9× slower and a ResNet18 step 1.1× (BENCHMARKS.md). Only
		// the desktop viewer needs the main thread, so every other
		// subcommand gives it up here.
		runtime.UnlockOSThread()
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// needsMainThread reports whether the subcommand of args must run on the
// main OS thread: only the desktop viewer, whose window ebiten drives there.
func needsMainThread(args []string) bool {
	return len(args) > 0 && args[0] == "desktop"
}

// errUsage is returned after a flag error has been printed with the usage.
var errUsage = errors.New("usage")

// exitInterrupted is the exit status after Ctrl-C (128 + SIGINT).
const exitInterrupted = 130

// errInterrupted is returned by train after saving on Ctrl-C.
var errInterrupted = errors.New("interrupted")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		case errors.Is(err, errInterrupted):
			return exitInterrupted
		}
		fmt.Fprintf(stderr, "cifarlab %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "cifarlab: unknown command %q (valid: %s)\n", args[0], strings.Join(commandNames(), ", "))
	return 2
}

func commandNames() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: cifarlab <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'cifarlab <command> -h' for a command's flags.")
}

// newFlagSet makes a flag set whose errors print to stderr and return.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("cifarlab "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags, turning a parse error into errUsage (already printed).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// choice is a flag value restricted to a list, naming the valid values
// when given another.
type choice struct {
	value string
	valid []string
}

func newChoice(def string, valid ...string) *choice { return &choice{value: def, valid: valid} }

func (c *choice) String() string {
	if c == nil {
		return ""
	}
	return c.value
}

func (c *choice) Set(s string) error {
	for _, v := range c.valid {
		if s == v {
			c.value = s
			return nil
		}
	}
	return fmt.Errorf("%q is not one of: %s", s, strings.Join(c.valid, ", "))
}

// flagError reports a bad flag value with the usage, like the flag package.
func flagError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "invalid value for flag: "+format+"\n", args...)
	fs.Usage()
	return errUsage
}

// setFlags is the set of flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
