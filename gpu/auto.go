package gpu

import "os"

// OpenAuto opens a GPU for the device choice "auto", the default of the
// command line and of the page: a GPU, never a CPU's emulation of one
// (Mesa's lavapipe, Chromium's SwiftShader), which trains more slowly than
// the CPU backend (see BENCHMARKS.md). It returns the backend; or nil and
// the emulating adapter's name when that is all there is (the device is
// closed again, and the error is the closing's); or nil, "" and the error
// of opening when there is no adapter. In both nil cases the caller
// trains on the CPU backend and says why.
//
// CIFARLAB_AUTO_GPU=emulation in the environment makes an emulation count
// as a GPU, so that tests on machines without one reach the GPU branch of
// the callers.
func OpenAuto(o Options) (*Backend, string, error) {
	g, err := Open(o)
	if err != nil {
		return nil, "", err
	}
	if !g.CPUEmulation() || os.Getenv("CIFARLAB_AUTO_GPU") == "emulation" {
		return g, "", nil
	}
	name := g.Adapter().Name
	return nil, name, g.Close()
}
