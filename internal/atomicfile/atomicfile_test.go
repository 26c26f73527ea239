package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries lists the names in dir, to check that no temporary file is left.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func checkOnly(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := entries(t, dir)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("folder holds %q, want %q", got, want)
	}
}

func checkContent(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s holds %q, want %q", path, b, want)
	}
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func TestWriteFileCreates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	if err := WriteFile(path, writeString("hello")); err != nil {
		t.Fatal(err)
	}
	checkContent(t, path, "hello")
	checkOnly(t, dir, "ckpt.safetensors")
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a")
	if err := os.WriteFile(path, []byte("old content that is longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, writeString("new")); err != nil {
		t.Fatal(err)
	}
	checkContent(t, path, "new")
	checkOnly(t, dir, "a")
}

func TestWriteFileLarge(t *testing.T) {
	// Larger than bufio's buffer, so data goes through several flushes.
	path := filepath.Join(t.TempDir(), "big")
	want := strings.Repeat("0123456789abcdef", 100000)
	if err := WriteFile(path, writeString(want)); err != nil {
		t.Fatal(err)
	}
	checkContent(t, path, want)
}

func TestWriteFileCallbackFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFile(path, func(w io.Writer) error {
		io.WriteString(w, strings.Repeat("partial", 10000))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	checkContent(t, path, "old")
	checkOnly(t, dir, "a")
}

func TestCreateBadFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"missing folder":      filepath.Join(dir, "missing", "a"),
		"parent is a file":    filepath.Join(file, "a"),
		"path names a folder": dir + string(filepath.Separator),
	} {
		t.Run(name, func(t *testing.T) {
			err := WriteFile(path, writeString("x"))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
		})
	}
	checkOnly(t, dir, "file")
}

func TestCreateReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores folder permissions")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	err := WriteFile(path, writeString("new"))
	if err == nil {
		t.Fatal("no error writing into a read-only folder")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	checkContent(t, path, "old")
	checkOnly(t, dir, "a")
}

func TestCommitFailsOverFolder(t *testing.T) {
	// Rename over a non-empty folder fails after everything was written:
	// the temporary file must still go away.
	dir := t.TempDir()
	path := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, writeString("data"))
	if err == nil {
		t.Fatal("no error renaming over a folder")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	checkOnly(t, dir, "sub")
}

func TestPermissionsLikeCreate(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	f, err := os.Create(ref)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	path := filepath.Join(dir, "a")
	if err := WriteFile(path, writeString("x")); err != nil {
		t.Fatal(err)
	}
	want, err := os.Stat(ref)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode() != want.Mode() {
		t.Errorf("mode %v, want %v (as os.Create gives)", got.Mode(), want.Mode())
	}
}

func TestTempNameAndAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	names := entries(t, dir)
	if len(names) != 1 || !strings.HasPrefix(names[0], ".model.safetensors.tmp-") {
		t.Fatalf("temporary file is %q, want .model.safetensors.tmp-<random>", names)
	}
	if _, err := f.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	checkOnly(t, dir)
	if err := f.Abort(); err != nil {
		t.Errorf("second Abort: %v", err)
	}
	if _, err := f.Write([]byte("x")); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if err := f.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	checkOnly(t, dir)
}

func TestAbortAfterCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("kept")); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := f.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if err := f.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}
	checkContent(t, path, "kept")
	checkOnly(t, dir, "a")
}

func TestConcurrentWritersDoNotCollide(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a")
	var files []*File
	for range 20 {
		f, err := Create(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if n := len(entries(t, dir)); n != 20 {
		t.Fatalf("%d temporary files, want 20 distinct", n)
	}
	for i, f := range files {
		io.WriteString(f, strings.Repeat("x", i))
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	checkContent(t, path, strings.Repeat("x", 19))
	checkOnly(t, dir, "a")
}
