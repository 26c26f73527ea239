package net

import (
	"errors"
	"fmt"
	"io"
	"time"

	"cifarlab/net/safetensors"
)

// ErrDeviceLost is wrapped by the errors of a backend whose device is gone
// (a driver reset, a GPU process crash, a destroyed WebGPU device) or has
// stopped answering. What was on it is lost; a trainer's HostCopy is not.
var ErrDeviceLost = errors.New("the GPU device is lost or hung")

// MayLoseDevice reports whether b's memory can vanish under it (a GPU
// backend, whose device can be lost), so that training keeps a HostCopy;
// the CPU backend's memory is the host's already.
func MayLoseDevice(b Backend) bool {
	v, ok := b.(interface{ MayLoseDevice() bool })
	return ok && v.MayLoseDevice()
}

// HostCopy is a trainer's whole state on the host: the network's state
// dict, Adam's moments and step count, and how far training had gone. It
// is what a checkpoint holds, and what training goes on from on another
// backend when the device is lost.
type HostCopy struct {
	Model   string
	Epoch   int          // epochs done
	Batch   int          // batches done of the next epoch
	Step    int          // Adam's updates
	State   []StateEntry // the state dict, in PyTorch's order
	Moments []StateEntry // exp_avg.NAME and exp_avg_sq.NAME of every parameter
}

// copyEntry is one tensor being copied to the host.
type copyEntry struct {
	name  string
	shape Shape
	read  func() ([]float32, error)
}

// CopyLater starts copying the trainer's state to the host as the ops
// recorded so far leave it, without waiting for the device, and returns a
// function that waits for the copy. epoch and batch are the progress those
// ops amount to (epochs done, batches done of the next).
func (t *Trainer) CopyLater(epoch, batch int) func() (*HostCopy, error) {
	c := &HostCopy{Model: t.Net.Model, Epoch: epoch, Batch: batch, Step: t.Opt.Step}
	var state, moments []copyEntry
	var counters []StateEntry
	for _, l := range t.Net.Layers {
		st := l.State()
		for _, p := range st.Params {
			state = append(state, copyEntry{p.Name, p.Shape, t.B.ReadLater(p.Value)})
		}
		for _, b := range st.Buffers {
			state = append(state, copyEntry{b.Name, b.Shape, t.B.ReadLater(b.Value)})
		}
		for _, k := range st.Counters {
			counters = append(counters, StateEntry{Name: k.Name, Shape: Shape{}, Int: []int64{*k.Value}})
		}
	}
	for _, p := range t.Opt.Params {
		moments = append(moments,
			copyEntry{"exp_avg." + p.Name, p.Shape, t.B.ReadLater(p.M)},
			copyEntry{"exp_avg_sq." + p.Name, p.Shape, t.B.ReadLater(p.V)})
	}
	return func() (*HostCopy, error) {
		var firstErr error
		collect := func(es []copyEntry) []StateEntry {
			out := make([]StateEntry, 0, len(es))
			for _, e := range es {
				v, err := e.read() // every read is waited for, so each frees its staging buffer
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("copy %s to the host: %w", e.name, err)
				}
				out = append(out, StateEntry{Name: e.name, Shape: e.shape, Float: v})
			}
			return out
		}
		c.State = sortModuleOrder(append(collect(state), counters...))
		c.Moments = collect(moments)
		if firstErr != nil {
			return nil, firstErr
		}
		return c, nil
	}
}

// Restore sets the trainer's network, Adam's moments and step, and its
// progress from c, which must be of the same model.
func (t *Trainer) Restore(c *HostCopy) error {
	if c.Model != t.Net.Model {
		return fmt.Errorf("a copy of %s cannot restore %s", c.Model, t.Net.Model)
	}
	entries := make(map[string]StateEntry, len(c.State))
	for _, e := range c.State {
		entries[e.Name] = e
	}
	if err := t.Net.LoadStateDict(entries); err != nil {
		return fmt.Errorf("restore the weights: %w", err)
	}
	moments := make(map[string]StateEntry, len(c.Moments))
	for _, e := range c.Moments {
		moments[e.Name] = e
	}
	for _, p := range t.Opt.Params {
		for _, mv := range []struct {
			prefix string
			t      Tensor
		}{{"exp_avg.", p.M}, {"exp_avg_sq.", p.V}} {
			e, ok := moments[mv.prefix+p.Name]
			if !ok || !e.Shape.Equal(p.Shape) {
				return fmt.Errorf("restore Adam's state: %s missing or of another shape", mv.prefix+p.Name)
			}
			t.B.Upload(mv.t, e.Float)
		}
	}
	t.Opt.Step, t.Epoch, t.Batch = c.Step, c.Epoch, c.Batch
	return nil
}

// EncodeWeights writes the copy's state dict as a safetensors weights file,
// the same as Network.EncodeWeights writes from the device.
func (c *HostCopy) EncodeWeights(w io.Writer, classes []string) error {
	n := &Network{Model: c.Model}
	info := CheckpointInfo{Classes: classes, Epoch: c.Epoch, Batch: c.Batch, Step: c.Step}
	return safetensors.Encode(w, stateTensors(c.State), n.weightsMeta(info, ""))
}

// HostKeeper keeps a HostCopy of a trainer fresh while it trains: a copy
// is started at least Every (and at every epoch's end), recorded after the
// step just submitted, and collected once a later step has been submitted,
// so the host waits, if at all, for work the device is already near the
// end of; training never stops for a copy.
type HostKeeper struct {
	Every time.Duration

	copy    *HostCopy // the last complete copy
	pending func() (*HostCopy, error)
	after   int // Adam's step when the pending copy was recorded
	started time.Time
}

// NewHostKeeper makes a keeper that refreshes its copy every d.
func NewHostKeeper(d time.Duration) *HostKeeper { return &HostKeeper{Every: d} }

// Copy is the last complete copy, nil before the first.
func (k *HostKeeper) Copy() *HostCopy { return k.copy }

// Start starts a copy of t's state now (the progress epoch, batch), unless
// one is in flight.
func (k *HostKeeper) Start(t *Trainer, epoch, batch int) {
	if k.pending != nil {
		return
	}
	k.pending, k.after, k.started = t.CopyLater(epoch, batch), t.Opt.Step, time.Now()
}

// Finish waits for the copy in flight, if any, and keeps it.
func (k *HostKeeper) Finish() error {
	if k.pending == nil {
		return nil
	}
	c, err := k.pending()
	k.pending = nil
	if err != nil {
		return err
	}
	k.copy = c
	return nil
}

// tick is called after each step t submits, with the progress it amounts
// to: it collects the copy in flight once a step came after it, and
// starts one when Every has passed since the last began (or force).
func (k *HostKeeper) tick(t *Trainer, epoch, batch int, force bool) error {
	if k.pending != nil && t.Opt.Step > k.after {
		if err := k.Finish(); err != nil {
			return err
		}
	}
	if force || time.Since(k.started) >= k.Every {
		k.Start(t, epoch, batch)
	}
	return nil
}
