package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cifarlab/internal/testenv"
	"cifarlab/net"
)

// TestCtrlCSavesAndResumeContinuesExactly interrupts a real training run
// with SIGINT in its first epoch, resumes it from the checkpoint saved then,
// and checks that it ends with the same weights, BatchNorm statistics and
// step losses as a run that was never interrupted.
func TestCtrlCSavesAndResumeContinuesExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and trains ResNet18 three times")
	}
	exact := filepath.Join(testenv.Data(t), "exact")
	dir := t.TempDir()
	bin := filepath.Join(dir, "cifarlab")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := func(save, log string) []string {
		return []string{"train", "-model", "resnet18", "-data", filepath.Join(exact, "data_batch_1.bin"), "-limit", "320",
			"-batch", "32", "-epochs", "2", "-augment", "-save", save, "-log", log}
	}
	straight, straightLog := filepath.Join(dir, "straight.safetensors"), filepath.Join(dir, "straight.jsonl")
	if out, err := exec.Command(bin, args(straight, straightLog)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	resumed, resumedLog := filepath.Join(dir, "resumed.safetensors"), filepath.Join(dir, "resumed.jsonl")
	cmd := exec.Command(bin, args(resumed, resumedLog)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForSteps(t, resumedLog, 3)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("after SIGINT: %v, want exit %d\n%s", err, exitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "continue with -resume") {
		t.Errorf("stderr after SIGINT: %s", stderr.String())
	}
	w, err := net.ReadWeights(resumed)
	if err != nil {
		t.Fatalf("checkpoint saved on SIGINT: %v", err)
	}
	t.Logf("interrupted at epoch %s batch %s", w.Meta["epoch"], w.Meta["batch"])
	if out, err := exec.Command(bin, append(args(resumed, resumedLog), "-resume", resumed)...).CombinedOutput(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}

	a, err := net.ReadWeights(straight)
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.ReadWeights(resumed)
	if err != nil {
		t.Fatal(err)
	}
	for name, ea := range a.Entries {
		eb := b.Entries[name]
		for i := range ea.Float {
			if ea.Float[i] != eb.Float[i] {
				t.Fatalf("%s[%d]: %v uninterrupted, %v after resuming", name, i, ea.Float[i], eb.Float[i])
			}
		}
		if len(ea.Int) > 0 && ea.Int[0] != eb.Int[0] {
			t.Errorf("%s: %d uninterrupted, %d after resuming", name, ea.Int[0], eb.Int[0])
		}
	}
	sa, _ := readLog(t, straightLog)
	sb, _ := readLog(t, resumedLog)
	if len(sa) != 20 || len(sb) != len(sa) {
		t.Fatalf("%d steps logged uninterrupted, %d interrupted and resumed; want 20", len(sa), len(sb))
	}
	for i := range sa {
		if sa[i]["step"] != sb[i]["step"] || sa[i]["loss"] != sb[i]["loss"] {
			t.Errorf("step %d: %v uninterrupted, %v resumed", i+1, sa[i], sb[i])
		}
	}
}

// waitForSteps waits until a -log file has n step lines.
func waitForSteps(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if f, err := os.Open(path); err == nil {
			c := 0
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if strings.Contains(sc.Text(), `"event":"step"`) {
					c++
				}
			}
			f.Close()
			if c >= n {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never reached %d steps", path, n)
}
