//go:build !linux && !js

package main

// shmTooSmall is only a concern on Linux.
func shmTooSmall() bool { return false }
