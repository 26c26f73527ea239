//go:build cgo || !nofakecgo

package main

import (
	"errors"
	"io"
)

// desktopBuilt says that this cifarlab lacks the desktop viewer: ebiten and
// gogpu/wgpu link into one binary only with CGO_ENABLED=0 and -tags
// nofakecgo (see desktop.go).
const desktopBuilt = false

// errNoDesktop says how to get a cifarlab with the desktop viewer.
var errNoDesktop = errors.New("this cifarlab was built without the desktop viewer; build it with make build " +
	"(CGO_ENABLED=0 go build -tags nofakecgo -o bin/cifarlab .)")

// runDesktop checks the flags, so that -h still lists them, then says how
// to build a cifarlab that has the viewer.
func runDesktop(args []string, stdout, stderr io.Writer) error {
	if _, err := parseDesktopFlags(args, stderr); err != nil {
		return err
	}
	return errNoDesktop
}
