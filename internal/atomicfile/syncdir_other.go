//go:build !unix

package atomicfile

// syncDir does nothing where folders cannot be fsynced (Windows, js/wasm,
// wasip1): the rename is still atomic, only its durability across a power
// loss is left to the operating system.
func syncDir(dir string) error { return nil }
