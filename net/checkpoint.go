package net

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"cifarlab/internal/atomicfile"
	"cifarlab/net/safetensors"
)

// A checkpoint is two safetensors files:
//
//   - the weights, OUT.safetensors: exactly the model's state dict under
//     PyTorch's names (F32, num_batches_tracked I64), so PyTorch loads it
//     with load_state_dict(strict=True); its metadata says the model, the
//     class names and how far training had got;
//   - the optimizer, OUT.optim.safetensors (OptimPath): Adam's exp_avg.NAME
//     and exp_avg_sq.NAME per parameter, and in its metadata the step
//     count, the epoch and the batch to resume from.
//
// Both carry the same random "checkpoint" id, so a resume never pairs an
// optimizer state with weights from another save.

// Metadata keys of cifarlab's checkpoints.
const (
	metaFormat     = "format" // "pt", as safetensors.torch writes it
	metaModel      = "model"
	metaClasses    = "classes" // JSON array of class names
	metaCheckpoint = "checkpoint"
	metaEpoch      = "epoch" // completed epochs
	metaBatch      = "batch" // batches done of the next epoch
	metaStep       = "step"  // Adam steps done
)

// OptimPath is where the optimizer state of the checkpoint at path lives.
func OptimPath(path string) string {
	return strings.TrimSuffix(path, ".safetensors") + ".optim.safetensors"
}

// Weights is a state dict read from a safetensors file.
type Weights struct {
	Path    string
	Model   string   // from the metadata, else guessed from the tensor names
	Classes []string // from the metadata; nil when absent
	Meta    map[string]string
	Entries map[string]StateEntry
}

// NumClasses is the number of outputs of the last layer.
func (w *Weights) NumClasses() int {
	for _, spec := range Specs {
		if e, ok := w.Entries[spec.Head+".weight"]; ok && len(e.Shape) == 2 {
			return e.Shape[0]
		}
	}
	return 0
}

// ReadWeights reads every tensor of a safetensors state dict. Only F32 and
// I64 tensors are accepted; anything else is an error naming the tensor.
func ReadWeights(path string) (*Weights, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	w, err := readEntries(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w.Path = path
	return w, nil
}

// DecodeWeights is ReadWeights from memory or any io.ReaderAt.
func DecodeWeights(r io.ReaderAt, size int64) (*Weights, error) {
	f, err := safetensors.Decode(r, size)
	if err != nil {
		return nil, err
	}
	return readEntries(f)
}

func readEntries(f *safetensors.File) (*Weights, error) {
	w := &Weights{Meta: f.Metadata, Entries: map[string]StateEntry{}}
	for _, info := range f.Infos() {
		e := StateEntry{Name: info.Name, Shape: Shape(append([]int{}, info.Shape...))}
		var err error
		switch info.DType {
		case safetensors.DTypeF32:
			e.Float, err = f.Float32(info.Name)
		case safetensors.DTypeI64:
			e.Int, err = f.Int64(info.Name)
		default:
			err = fmt.Errorf("tensor %q has dtype %s; cifarlab state dicts hold F32 (and I64 num_batches_tracked)", info.Name, info.DType)
		}
		if err != nil {
			return nil, err
		}
		w.Entries[info.Name] = e
	}
	w.Model = w.Meta[metaModel]
	if w.Model == "" {
		w.Model = guessModel(w.Entries)
	}
	if s, ok := w.Meta[metaClasses]; ok {
		if err := json.Unmarshal([]byte(s), &w.Classes); err != nil {
			return nil, fmt.Errorf("metadata %q is not a JSON list of names: %w", metaClasses, err)
		}
	}
	return w, nil
}

// guessModel names the network a state dict without metadata is for, from
// its keys: "" when they match none.
func guessModel(es map[string]StateEntry) string {
	has := func(k string) bool { _, ok := es[k]; return ok }
	var base string
	bn := true
	switch {
	case has("conv_unit.0.weight"):
		return "lenet5"
	case has("blk1.conv1.weight"):
		base, bn = "resnet18", has("conv1.1.weight")
		if !has("blk1.extra.0.weight") {
			base = "resnet18-plain"
		}
	case has("layer1.0.conv1.weight"):
		n := 0
		for has(fmt.Sprintf("layer1.%d.conv1.weight", n)) {
			n++
		}
		base, bn = fmt.Sprintf("resnet%d", 6*n+2), has("bn1.weight")
		if !has("layer2.0.shortcut.0.weight") {
			base = fmt.Sprintf("plain%d", 6*n+2)
		}
	default:
		return ""
	}
	if name := ModelName(base, bn); ValidModel(name) {
		return name
	}
	return ""
}

// Load sets the network's state from w, checking that w is for this model.
func (n *Network) Load(w *Weights) error {
	if w.Model != "" && w.Model != n.Model {
		return fmt.Errorf("%s holds %s weights, not %s", w.Path, w.Model, n.Model)
	}
	if err := n.LoadStateDict(w.Entries); err != nil {
		return fmt.Errorf("%s: %w", w.Path, err)
	}
	return nil
}

// CheckpointInfo is what a checkpoint records besides the tensors.
type CheckpointInfo struct {
	Classes            []string
	Epoch, Batch, Step int
}

// stateTensors converts a downloaded state dict for safetensors.
func stateTensors(es []StateEntry) []safetensors.Tensor {
	ts := make([]safetensors.Tensor, 0, len(es))
	for _, e := range es {
		if e.Int != nil {
			ts = append(ts, safetensors.I64(e.Name, e.Shape, e.Int))
		} else {
			ts = append(ts, safetensors.F32(e.Name, e.Shape, e.Float))
		}
	}
	return ts
}

func (n *Network) weightsMeta(info CheckpointInfo, id string) map[string]string {
	classes, _ := json.Marshal(info.Classes)
	m := map[string]string{
		metaFormat: "pt", metaModel: n.Model, metaClasses: string(classes),
		metaEpoch: strconv.Itoa(info.Epoch), metaBatch: strconv.Itoa(info.Batch), metaStep: strconv.Itoa(info.Step),
	}
	if id != "" {
		m[metaCheckpoint] = id
	}
	return m
}

// EncodeWeights writes the network's state dict as safetensors to w.
func (n *Network) EncodeWeights(w io.Writer, info CheckpointInfo) error {
	es, err := n.StateDict()
	if err != nil {
		return err
	}
	return safetensors.Encode(w, stateTensors(es), n.weightsMeta(info, ""))
}

// SaveWeights writes the state dict to path atomically.
func (n *Network) SaveWeights(path string, info CheckpointInfo) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error { return n.EncodeWeights(w, info) })
}

// SaveCheckpoint writes the weights to path and the optimizer state to
// OptimPath(path). Both are written in full and synced before either
// replaces an earlier checkpoint, so a crash leaves the earlier files (or
// a pair that Resume detects as mismatched), never a torn file.
func (t *Trainer) SaveCheckpoint(path string, classes []string) error {
	info := CheckpointInfo{Classes: classes, Epoch: t.Epoch, Batch: t.Batch, Step: t.Opt.Step}
	id := newCheckpointID()
	es, err := t.Net.StateDict()
	if err != nil {
		return err
	}
	opt, err := t.Opt.tensors()
	if err != nil {
		return err
	}
	wf, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer wf.Abort()
	of, err := atomicfile.Create(OptimPath(path))
	if err != nil {
		return err
	}
	defer of.Abort()
	if err := safetensors.Encode(wf, stateTensors(es), t.Net.weightsMeta(info, id)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := safetensors.Encode(of, opt, t.optimMeta(info, id)); err != nil {
		return fmt.Errorf("write %s: %w", OptimPath(path), err)
	}
	if err := of.Commit(); err != nil {
		return err
	}
	return wf.Commit()
}

func newCheckpointID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (t *Trainer) optimMeta(info CheckpointInfo, id string) map[string]string {
	a := t.Opt
	return map[string]string{
		metaModel: t.Net.Model, metaCheckpoint: id,
		metaEpoch: strconv.Itoa(info.Epoch), metaBatch: strconv.Itoa(info.Batch), metaStep: strconv.Itoa(a.Step),
		"optimizer": "Adam", "lr": fmt.Sprint(a.LR), "beta1": fmt.Sprint(a.Beta1), "beta2": fmt.Sprint(a.Beta2), "eps": fmt.Sprint(a.Eps),
	}
}

// tensors downloads Adam's moments as exp_avg.NAME and exp_avg_sq.NAME.
func (a *Adam) tensors() ([]safetensors.Tensor, error) {
	var ts []safetensors.Tensor
	for _, p := range a.Params {
		for _, mv := range []struct {
			prefix string
			t      Tensor
		}{{"exp_avg.", p.M}, {"exp_avg_sq.", p.V}} {
			e, err := download(a.b, mv.prefix+p.Name, p.Shape, mv.t)
			if err != nil {
				return nil, err
			}
			ts = append(ts, safetensors.F32(e.Name, e.Shape, e.Float))
		}
	}
	return ts, nil
}

// Resume loads a checkpoint written by SaveCheckpoint: the weights, Adam's
// moments and step count, and the epoch and batch to continue from.
func (t *Trainer) Resume(path string) (CheckpointInfo, error) {
	w, err := ReadWeights(path)
	if err != nil {
		return CheckpointInfo{}, err
	}
	optPath := OptimPath(path)
	o, err := ReadWeights(optPath)
	if os.IsNotExist(unwrapPath(err)) {
		return CheckpointInfo{}, fmt.Errorf("%s has no optimizer state beside it (%s); to start from these weights with a fresh optimizer use -init", path, optPath)
	}
	if err != nil {
		return CheckpointInfo{}, err
	}
	if id := w.Meta[metaCheckpoint]; id == "" || id != o.Meta[metaCheckpoint] {
		return CheckpointInfo{}, fmt.Errorf("%s and %s are not from the same save (an interrupted save or files mixed up); use -init %s to start from the weights with a fresh optimizer", path, optPath, path)
	}
	info, err := parseProgress(o.Meta, optPath)
	if err != nil {
		return info, err
	}
	info.Classes = w.Classes
	if err := t.Net.Load(w); err != nil {
		return info, err
	}
	if err := t.Opt.load(o); err != nil {
		return info, err
	}
	t.Opt.Step, t.Epoch, t.Batch = info.Step, info.Epoch, info.Batch
	return info, nil
}

func unwrapPath(err error) error {
	for err != nil {
		if _, ok := err.(*os.PathError); ok {
			return err
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
	return nil
}

func parseProgress(meta map[string]string, path string) (CheckpointInfo, error) {
	var info CheckpointInfo
	for _, f := range []struct {
		key string
		dst *int
	}{{metaEpoch, &info.Epoch}, {metaBatch, &info.Batch}, {metaStep, &info.Step}} {
		v, err := strconv.Atoi(meta[f.key])
		if err != nil || v < 0 {
			return info, fmt.Errorf("%s: metadata %q is %q, want a count", path, f.key, meta[f.key])
		}
		*f.dst = v
	}
	return info, nil
}

// load sets the moments from an optimizer file, strictly.
func (a *Adam) load(o *Weights) error {
	seen := 0
	for _, p := range a.Params {
		for _, mv := range []struct {
			prefix string
			t      Tensor
		}{{"exp_avg.", p.M}, {"exp_avg_sq.", p.V}} {
			name := mv.prefix + p.Name
			e, ok := o.Entries[name]
			if !ok {
				return fmt.Errorf("%s: %s: missing", o.Path, name)
			}
			if !e.Shape.Equal(p.Shape) || e.Float == nil {
				return fmt.Errorf("%s: %s: shape %v, want float32 %v", o.Path, name, e.Shape, p.Shape)
			}
			seen++
		}
	}
	if seen != len(o.Entries) {
		return fmt.Errorf("%s: %d tensors, but the model's optimizer state has %d", o.Path, len(o.Entries), seen)
	}
	for _, p := range a.Params {
		a.b.Upload(p.M, o.Entries["exp_avg."+p.Name].Float)
		a.b.Upload(p.V, o.Entries["exp_avg_sq."+p.Name].Float)
	}
	return nil
}
