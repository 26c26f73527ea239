//go:build linux

package main

import "syscall"

// shmTooSmall reports whether /dev/shm has under 1 GiB free.
func shmTooSmall() bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil {
		return false
	}
	return uint64(st.Bavail)*uint64(st.Bsize) < 1<<30
}
