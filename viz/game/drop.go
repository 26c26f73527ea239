package game

import (
	"strings"

	"cifarlab/viz"
)

// maxDropped bounds the bytes read of a file dropped on the window.
const maxDropped = 64 << 20

// dropped turns a file dropped on the window into the intent it asks for:
// weights (.safetensors) to load, else a picture to inspect (the session
// says clearly when it is none).
func dropped(name string, data []byte) viz.Intent {
	if strings.HasSuffix(strings.ToLower(name), ".safetensors") {
		return viz.Intent{Kind: viz.Load, Data: data, Path: name}
	}
	return viz.Intent{Kind: viz.InspectPicture, Data: data, Path: name}
}
