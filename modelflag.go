package main

import (
	"flag"
	"strings"

	"cifarlab/net"
)

// modelFlag is the -model and -bn pair: a network of net.Models, with or
// without its BatchNorm layers.
type modelFlag struct {
	base *choice
	bn   bool
}

// registerModel adds -model (default def; "" for none) and -bn to fs.
func registerModel(fs *flag.FlagSet, def, defHelp string) *modelFlag {
	m := &modelFlag{base: newChoice(def, net.Models...)}
	help := "network: " + strings.Join(net.Models, ", ")
	if defHelp != "" {
		help += " (default: " + defHelp + ")"
	}
	fs.Var(m.base, "model", help)
	fs.BoolVar(&m.bn, "bn", true, "keep the BatchNorm layers of a block network (false: remove them, giving each convolution a bias)")
	return m
}

// name is the network's name for net.New ("plain56-nobn" for -model
// plain56 -bn=false), or "" without -model.
func (m *modelFlag) name() string {
	if m.base.value == "" {
		return ""
	}
	return net.ModelName(m.base.value, m.bn)
}

// check reports -bn=false on a network without BatchNorm.
func (m *modelFlag) check(fs *flag.FlagSet) error {
	if m.base.value == "" {
		if !m.bn {
			return flagError(fs, "-bn=false needs -model")
		}
		return nil
	}
	if _, _, err := net.ParseModel(m.name()); err != nil {
		return flagError(fs, "-bn=false: %s has no BatchNorm", m.base.value)
	}
	return nil
}
