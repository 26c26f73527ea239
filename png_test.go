package main

import (
	"image/png"
	"os"
	"testing"

	"cifarlab/cifar"
)

// writePNG writes image i of a .bin file as a PNG.
func writePNG(t *testing.T, path, bin string, i int) {
	t.Helper()
	ds, err := cifar.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, ds.Only.Image(i)); err != nil {
		t.Fatal(err)
	}
}
