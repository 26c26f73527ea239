package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"cifarlab/internal/atomicfile"
	"cifarlab/net"
	"cifarlab/viz"
)

// encodeWeights writes the network's state dict as a safetensors file, the
// weights file of cifarlab's checkpoints, and names it.
func (w *worker) encodeWeights() ([]byte, string, error) {
	if w.net == nil || w.tr == nil {
		return nil, "", errNotReady
	}
	var buf bytes.Buffer
	err := w.net.EncodeWeights(&buf, w.checkpointInfo())
	if errors.Is(err, net.ErrDeviceLost) && w.tr.Keeper != nil && w.tr.Keeper.Copy() != nil {
		// The weights on the device are gone: the copy on the host is the
		// latest there is.
		c := w.tr.Keeper.Copy()
		buf.Reset()
		if err := c.EncodeWeights(&buf, w.classes); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), fmt.Sprintf("%s-step%d.safetensors", c.Model, c.Step), nil
	}
	if err != nil {
		return nil, "", err
	}
	return buf.Bytes(), fmt.Sprintf("%s-step%d.safetensors", w.net.Model, w.tr.Opt.Step), nil
}

func (w *worker) checkpointInfo() net.CheckpointInfo {
	return net.CheckpointInfo{Classes: w.classes, Epoch: w.tr.Epoch, Batch: w.tr.Batch, Step: w.tr.Opt.Step}
}

// save writes the weights to path, or hands them to Config.OnSave.
func (w *worker) save(path string) error {
	if w.net == nil || w.tr == nil {
		return errNotReady
	}
	if path != "" {
		data, _, err := w.encodeWeights()
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(path, func(f io.Writer) error { _, err := f.Write(data); return err }); err != nil {
			return err
		}
		w.say("saved %s", path)
		return nil
	}
	if w.s.cfg.OnSave == nil {
		return errors.New("no file to save to")
	}
	data, name, err := w.encodeWeights()
	if err != nil {
		return err
	}
	w.s.cfg.OnSave(name, data)
	w.say("saved %s", name)
	return nil
}

// load replaces the network by one with the weights of a safetensors state
// dict (in.Data, named by in.Path when set; else the file in.Path),
// switching the model when the file holds the other one, with a fresh
// optimizer. A file that does not fit leaves the session as it was.
func (w *worker) load(in viz.Intent) error {
	name, data := in.Path, in.Data
	if data == nil {
		if name == "" {
			return errors.New("no weights file given")
		}
		var err error
		if data, err = os.ReadFile(name); err != nil {
			return err
		}
	}
	if name == "" {
		name = "the weights file"
	}
	if w.b == nil || w.classes == nil {
		return errNotReady
	}
	wts, err := net.DecodeWeights(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	wts.Path = name
	if wts.Model == "" {
		return fmt.Errorf("%s holds the weights of none of cifarlab's networks (%s)", name, strings.Join(net.Models, ", "))
	}
	if !net.ValidModel(wts.Model) {
		return fmt.Errorf("%s holds weights of an unknown model %q", name, wts.Model)
	}
	if k := wts.NumClasses(); k != len(w.classes) {
		return fmt.Errorf("%s has %d outputs, but the dataset has %d classes", name, k, len(w.classes))
	}
	if err := checkBatch(wts.Model, w.set.Batch); err != nil {
		return err
	}
	l, err := w.newLane(wts.Model)
	if err != nil {
		return err
	}
	if err := l.net.Load(wts); err != nil {
		l.free()
		return err
	}
	w.endLanes()
	w.setLanes(l, nil)
	w.ok()
	w.say("loaded %s (%s%s); a fresh optimizer goes on from them", name, wts.Model, trainedFor(wts.Meta))
	return nil
}

// trainedFor says how far the weights had been trained, from the metadata.
func trainedFor(meta map[string]string) string {
	if s := meta["step"]; s != "" && s != "0" {
		return ", trained for " + s + " steps"
	}
	return ""
}
