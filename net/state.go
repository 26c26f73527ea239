package net

import (
	"fmt"
	"sort"
	"strings"
)

// StateEntry is one tensor of a state dict, on the host.
type StateEntry struct {
	Name  string
	Shape Shape
	Float []float32 // float32 tensors
	Int   []int64   // int64 tensors (num_batches_tracked, a scalar of shape [])
}

// StateDict downloads the network's state dict in PyTorch's order:
// parameters and buffers of each module in turn.
func (n *Network) StateDict() ([]StateEntry, error) {
	var out []StateEntry
	for _, l := range n.Layers {
		st := l.State()
		if err := appendState(n.B, &out, st); err != nil {
			return nil, err
		}
	}
	return sortModuleOrder(out), nil
}

func appendState(b Backend, out *[]StateEntry, st State) error {
	for _, p := range st.Params {
		e, err := download(b, p.Name, p.Shape, p.Value)
		if err != nil {
			return err
		}
		*out = append(*out, e)
	}
	for _, buf := range st.Buffers {
		e, err := download(b, buf.Name, buf.Shape, buf.Value)
		if err != nil {
			return err
		}
		*out = append(*out, e)
	}
	for _, c := range st.Counters {
		*out = append(*out, StateEntry{Name: c.Name, Shape: Shape{}, Int: []int64{*c.Value}})
	}
	return nil
}

func download(b Backend, name string, s Shape, t Tensor) (StateEntry, error) {
	v := make([]float32, s.Len())
	if err := b.Download(v, t); err != nil {
		return StateEntry{}, fmt.Errorf("read %s: %w", name, err)
	}
	return StateEntry{Name: name, Shape: s, Float: v}, nil
}

// sortModuleOrder orders entries as PyTorch's state_dict() does: by module
// (in the order of first appearance), and within a module weight, bias,
// running_mean, running_var, num_batches_tracked.
func sortModuleOrder(es []StateEntry) []StateEntry {
	rank := map[string]int{"weight": 0, "bias": 1, "running_mean": 2, "running_var": 3, "num_batches_tracked": 4}
	first := map[string]int{}
	for i, e := range es {
		m := module(e.Name)
		if _, ok := first[m]; !ok {
			first[m] = i
		}
	}
	sort.SliceStable(es, func(i, j int) bool {
		mi, mj := module(es[i].Name), module(es[j].Name)
		if mi != mj {
			return first[mi] < first[mj]
		}
		return rank[leaf(es[i].Name)] < rank[leaf(es[j].Name)]
	})
	return es
}

func module(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return ""
}

func leaf(name string) string { return name[strings.LastIndexByte(name, '.')+1:] }

// LoadStateDict sets every tensor of the network's state dict from
// entries, strictly: a missing or unknown name, a wrong shape or a wrong
// type is an error naming the tensor, and nothing is changed then.
func (n *Network) LoadStateDict(entries map[string]StateEntry) error {
	st := n.State()
	want := map[string]bool{}
	check := func(name string, s Shape, float bool) error {
		want[name] = true
		e, ok := entries[name]
		if !ok {
			return fmt.Errorf("%s: missing from the state dict", name)
		}
		if !e.Shape.Equal(s) {
			return fmt.Errorf("%s: shape %v, the %s model needs %v", name, e.Shape, n.Model, s)
		}
		if float && len(e.Float) != s.Len() || !float && len(e.Int) != 1 {
			kind := "float32"
			if !float {
				kind = "int64"
			}
			return fmt.Errorf("%s: must be %s", name, kind)
		}
		return nil
	}
	for _, p := range st.Params {
		if err := check(p.Name, p.Shape, true); err != nil {
			return err
		}
	}
	for _, b := range st.Buffers {
		if err := check(b.Name, b.Shape, true); err != nil {
			return err
		}
	}
	for _, c := range st.Counters {
		if err := check(c.Name, Shape{}, false); err != nil {
			return err
		}
	}
	var unknown []string
	for name := range entries {
		if !want[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("%s: unexpected in a %s state dict", strings.Join(unknown, ", "), n.Model)
	}
	for _, p := range st.Params {
		n.B.Upload(p.Value, entries[p.Name].Float)
	}
	for _, b := range st.Buffers {
		n.B.Upload(b.Value, entries[b.Name].Float)
	}
	for _, c := range st.Counters {
		*c.Value = entries[c.Name].Int[0]
	}
	return nil
}
