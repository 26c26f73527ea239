// Package atomicfile replaces files crash-safely: data is written to a
// temporary file in the destination's folder, synced, and renamed over the
// destination, so a reader sees either the old file or the whole new one.
//
// Until Commit succeeds the previous file at the destination is untouched,
// and every failure path removes the temporary file.
package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// tempPrefix and tempInfix make temporary names recognisable:
// ".<base>.tmp-<16 hex digits>", hidden on Unix.
const (
	tempPrefix  = "."
	tempInfix   = ".tmp-"
	createTries = 10000
)

// errDone is returned by Write after Commit or Abort.
var errDone = errors.New("atomicfile: file already committed or aborted")

// File is a pending replacement of a destination path. It is an io.Writer;
// writes are buffered. Call Commit to publish it or Abort to discard it.
// A File is not safe for concurrent use.
type File struct {
	path string   // destination
	tmp  *os.File // temporary file in the destination's folder
	buf  *bufio.Writer
	done bool // committed or aborted: tmp is closed and gone or renamed
}

// Create opens a temporary file in the same folder as path, so that the
// final rename is atomic. The file gets mode 0666 before umask, as
// os.Create would give.
func Create(path string) (*File, error) {
	tmp, err := createTemp(path)
	if err != nil {
		return nil, fmt.Errorf("atomicfile: create %s: %w", path, err)
	}
	return &File{path: path, tmp: tmp, buf: bufio.NewWriter(tmp)}, nil
}

// createTemp creates ".<base>.tmp-<random>" next to path with O_EXCL,
// retrying on the (unlikely) name collision.
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return nil, errors.New("path names a folder")
	}
	for range createTries {
		name := filepath.Join(dir, tempPrefix+base+tempInfix+randomSuffix())
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("could not find an unused temporary name")
}

func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than erring)
	return hex.EncodeToString(b[:])
}

// Name is the destination path.
func (f *File) Name() string { return f.path }

// Write buffers p for the temporary file.
func (f *File) Write(p []byte) (int, error) {
	if f.done {
		return 0, errDone
	}
	n, err := f.buf.Write(p)
	if err != nil {
		return n, fmt.Errorf("atomicfile: write %s: %w", f.tmp.Name(), err)
	}
	return n, nil
}

// Commit flushes and fsyncs the temporary file, closes it, renames it over
// the destination and fsyncs the folder (where the platform allows). On
// failure the temporary file is removed and the destination is untouched
// (unless the failure is the final folder sync, after the rename).
// Commit after Commit or Abort returns an error.
func (f *File) Commit() error {
	if f.done {
		return errDone
	}
	if err := f.finish(); err != nil {
		f.discard()
		return fmt.Errorf("atomicfile: commit %s: %w", f.path, err)
	}
	f.done = true
	if err := syncDir(filepath.Dir(f.path)); err != nil {
		return fmt.Errorf("atomicfile: commit %s: sync folder: %w", f.path, err)
	}
	return nil
}

// finish flushes, syncs, closes and renames the temporary file.
func (f *File) finish() error {
	if err := f.buf.Flush(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if err := f.tmp.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := f.tmp.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if err := os.Rename(f.tmp.Name(), f.path); err != nil {
		return err // *LinkError names both paths
	}
	return nil
}

// Abort closes and removes the temporary file, leaving the destination as
// it was. It is a no-op after Commit or a previous Abort, so it can be
// deferred unconditionally.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	if err := f.discard(); err != nil {
		return fmt.Errorf("atomicfile: abort %s: %w", f.path, err)
	}
	return nil
}

// discard closes (if still open) and removes the temporary file.
func (f *File) discard() error {
	f.done = true
	f.tmp.Close() // may already be closed by finish; the error is moot
	err := os.Remove(f.tmp.Name())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// WriteFile replaces path with what write produces: Create, write, Commit,
// and Abort if write or Commit fails.
func WriteFile(path string, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := write(f); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	return f.Commit()
}
