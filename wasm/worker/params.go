//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"cifarlab/internal/app"
	"cifarlab/net"
)

// params are the page's URL parameters, which preset the session:
//
//	?model=lenet5|resnet18  the network (default lenet5)
//	&lr=X                   Adam's learning rate (default 1e-3)
//	&batch=N                images per step (default 256 on WebGPU, 32 on the CPU)
//	&limit=N                train on N training images, taken from the classes in
//	                        turn (default all)
//	&eval=N                 test images evaluated after each epoch (default: all on
//	                        a GPU, 1,000 on the CPU or an emulated GPU)
//	&autostart=1            start training as soon as the data is there
//	&device=auto|gpu|cpu    auto (the default): WebGPU on a GPU, else the CPU
//	                        backend, also when the browser's WebGPU only emulates
//	                        a GPU on the CPU (SwiftShader), which trains more
//	                        slowly than the CPU backend; gpu: WebGPU whatever its
//	                        adapter; cpu: the CPU backend
//	&inspect=MS             how often, in milliseconds, the maps are refreshed
//	                        while training (default 250; 0: never, to measure
//	                        what they cost)
//	&view=maps|grads|eval   the feature maps (default), the gradient view or the
//	                        evaluation (the page's viewer reads it, with
//	                        pagewire.View; the worker only checks it)
//	?experiment=shortcuts   the shortcut experiment instead of one network: a
//	                        residual network and its plain twin trained in
//	                        turns on the same batches, from the gradient view
//	&depth=20|56|18         its networks: He et al.'s 20 (the default) or 56
//	                        layers, or the tutorial's ResNet18
//	&bn=0|1                 without BatchNorm (the default: the gradient fades
//	                        in the plain network from the first step) or with
type params struct {
	inspect   int // milliseconds; -1: the default
	model     string
	lr        float64
	batch     int // 0: the backend's default
	limit     int
	eval      int // 0: the backend's default
	autostart bool
	device    string // "auto", "gpu" or "cpu"
	// experiment is the residual network of the shortcut experiment; ""
	// for none.
	experiment string
}

// parseParams reads a query string (with or without its "?"). A bad value
// is an error naming it, and its default is used instead.
func parseParams(query string) (params, error) {
	p := params{model: app.DefaultModel, inspect: -1, device: "auto"}
	q, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	var errs []error
	if err != nil {
		errs = append(errs, fmt.Errorf("the URL's parameters: %w", err))
	}
	count := func(name string, dst *int) {
		s := q.Get(name)
		if s == "" {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("URL parameter %s=%q: want a whole number ≥ 0", name, s))
			return
		}
		*dst = n
	}
	if m := q.Get("model"); m != "" {
		if net.ValidModel(m) {
			p.model = m
		} else {
			errs = append(errs, fmt.Errorf("URL parameter model=%q: want one of %s (a block network may end in %s)", m, strings.Join(net.Models, ", "), net.NoBNSuffix))
		}
	}
	if s := q.Get("lr"); s != "" {
		lr, err := strconv.ParseFloat(s, 64)
		if err != nil || !(lr > 0) || lr > 1 || math.IsInf(lr, 0) {
			errs = append(errs, fmt.Errorf("URL parameter lr=%q: want a number above 0 and at most 1", s))
		} else {
			p.lr = lr
		}
	}
	count("batch", &p.batch)
	if p.batch > app.MaxBatch {
		errs = append(errs, fmt.Errorf("URL parameter batch=%d: at most %d", p.batch, app.MaxBatch))
		p.batch = 0
	}
	count("limit", &p.limit)
	count("eval", &p.eval)
	count("inspect", &p.inspect)
	switch s := q.Get("autostart"); s {
	case "", "0", "false":
	case "1", "true":
		p.autostart = true
	default:
		errs = append(errs, fmt.Errorf("URL parameter autostart=%q: want 1 or 0", s))
	}
	switch s := q.Get("device"); s {
	case "":
	case "auto", "gpu", "cpu":
		p.device = s
	default:
		errs = append(errs, fmt.Errorf("URL parameter device=%q: want auto, gpu or cpu", s))
	}
	switch s := q.Get("view"); s {
	case "", "maps", "grads", "eval":
	default:
		errs = append(errs, fmt.Errorf("URL parameter view=%q: want maps, grads or eval", s))
	}
	if err := p.parseExperiment(q); err != nil {
		errs = append(errs, err)
	}
	return p, errors.Join(errs...)
}

// experimentDepths are the depths of ?experiment=shortcuts&depth=N and
// their residual networks.
var experimentDepths = map[string]string{"18": "resnet18", "20": "resnet20", "56": "resnet56"}

// parseExperiment reads experiment, depth and bn.
func (p *params) parseExperiment(q url.Values) error {
	var errs []error
	switch s := q.Get("experiment"); s {
	case "":
		for _, name := range []string{"depth", "bn"} {
			if q.Get(name) != "" {
				errs = append(errs, fmt.Errorf("URL parameter %s=%q: it goes with experiment=shortcuts", name, q.Get(name)))
			}
		}
		return errors.Join(errs...)
	case "shortcuts":
	default:
		return fmt.Errorf("URL parameter experiment=%q: want shortcuts", s)
	}
	model := experimentDepths["20"]
	if d := q.Get("depth"); d != "" {
		if m, ok := experimentDepths[d]; ok {
			model = m
		} else {
			errs = append(errs, fmt.Errorf("URL parameter depth=%q: want 20, 56 or 18", d))
		}
	}
	bn := false
	switch s := q.Get("bn"); s {
	case "", "0", "false":
	case "1", "true":
		bn = true
	default:
		errs = append(errs, fmt.Errorf("URL parameter bn=%q: want 1 or 0", s))
	}
	p.experiment = net.ModelName(model, bn)
	return errors.Join(errs...)
}
