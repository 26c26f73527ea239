package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"cifarlab/cifar"
	"cifarlab/net"
)

// modelFlags are the flags eval and predict share.
type modelFlags struct {
	model     *modelFlag
	device    *choice
	weights   string
	data      string
	batch     int
	jsonLines bool
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	m.model = registerModel(fs, "", "as recorded in -weights")
	m.device = newChoice("auto", devices...)
	fs.Var(m.device, "device", "auto, cpu or gpu")
	fs.StringVar(&m.weights, "weights", "", "weights to use (.safetensors, as written by train or PyTorch)")
	fs.StringVar(&m.data, "data", "", "dataset: "+cifar.Formats+" (default: the official archive, downloaded once into the cache)")
	fs.IntVar(&m.batch, "batch", 500, "images per forward")
	fs.BoolVar(&m.jsonLines, "json", false, "print JSON instead of text")
}

func (m *modelFlags) check(fs *flag.FlagSet) error {
	if m.weights == "" {
		return flagError(fs, "-weights is required")
	}
	if m.batch < 1 {
		return flagError(fs, "-batch %d: must be at least 1", m.batch)
	}
	return m.model.check(fs)
}

// loadModel builds the network that -weights holds.
func loadModel(b net.Backend, m *modelFlags) (*net.Network, []string, error) {
	w, err := net.ReadWeights(m.weights)
	if err != nil {
		return nil, nil, err
	}
	model := m.model.name()
	if model == "" {
		if model = w.Model; model == "" {
			return nil, nil, fmt.Errorf("%s does not say which model it holds; pass -model", m.weights)
		}
	}
	k := w.NumClasses()
	if k == 0 {
		return nil, nil, fmt.Errorf("%s has no %s output layer", m.weights, model)
	}
	n, err := net.New(b, model, k, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := n.Load(w); err != nil {
		n.Free()
		return nil, nil, err
	}
	return n, w.Classes, nil
}

// classNames picks the names of k classes: the dataset's, the weights',
// CIFAR-10's, or numbers.
func classNames(k int, lists ...[]string) []string {
	for _, l := range lists {
		if len(l) == k {
			return l
		}
	}
	if k == len(cifar.CIFAR10Classes) {
		return cifar.CIFAR10Classes
	}
	names := make([]string, k)
	for i := range names {
		names[i] = fmt.Sprintf("class %d", i)
	}
	return names
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", stderr)
	var m modelFlags
	m.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return flagError(fs, "unexpected argument %q", fs.Arg(0))
	}
	if err := m.check(fs); err != nil {
		return err
	}
	ds, err := loadDataset(context.Background(), m.data, stderr)
	if err != nil {
		return err
	}
	split, err := evalSplit(ds)
	if err != nil {
		return err
	}
	b, err := openBackend(m.device.value, stderr)
	if err != nil {
		return err
	}
	defer b.Close()
	n, wclasses, err := loadModel(b, &m)
	if err != nil {
		return err
	}
	defer n.Free()
	if n.Classes != len(ds.Classes) {
		return fmt.Errorf("%s has %d outputs, but %s has %d classes", m.weights, n.Classes, ds.Source, len(ds.Classes))
	}
	warnClasses(stderr, wclasses, ds.Classes, m.weights)
	recs, err := upload(b, split)
	if err != nil {
		return err
	}
	res, err := net.Evaluate(b, n, recs, -1, m.batch, norm, nil)
	if err != nil {
		return err
	}
	if m.jsonLines {
		return printEvalJSON(stdout, res, ds.Classes)
	}
	printEval(stdout, res, ds.Classes, n.Model, split.Source)
	return nil
}

func warnClasses(w io.Writer, fromWeights, fromData []string, path string) {
	if fromWeights != nil && !slices.Equal(fromWeights, fromData) {
		fmt.Fprintf(w, "note: %s was trained on classes %v; the data names them %v\n", path, fromWeights, fromData)
	}
}

func printEvalJSON(w io.Writer, res net.EvalResult, classes []string) error {
	per := make([]*float64, len(classes))
	for i, a := range res.PerClass() {
		if !math.IsNaN(a) {
			per[i] = &a
		}
	}
	return json.NewEncoder(w).Encode(map[string]any{
		"accuracy": res.Accuracy(), "loss": res.Loss, "n": res.N, "per_class": per,
		"confusion": res.Confusion, "classes": classes,
	})
}

func printEval(w io.Writer, res net.EvalResult, classes []string, model, source string) {
	fmt.Fprintf(w, "%s on %d images of %s\n", model, res.N, source)
	fmt.Fprintf(w, "accuracy %.2f%%  loss %.4f\n\nper class:\n", 100*res.Accuracy(), res.Loss)
	for i, a := range res.PerClass() {
		if math.IsNaN(a) {
			fmt.Fprintf(w, "  %-12s     -   (no images)\n", classes[i])
			continue
		}
		fmt.Fprintf(w, "  %-12s %6.2f%%\n", classes[i], 100*a)
	}
	fmt.Fprintf(w, "\nconfusion matrix (rows: true class, columns: predicted class):\n%13s", "")
	for _, c := range classes {
		fmt.Fprintf(w, " %5.5s", c)
	}
	fmt.Fprintln(w)
	for i, row := range res.Confusion {
		fmt.Fprintf(w, "  %-11.11s", classes[i])
		for _, v := range row {
			fmt.Fprintf(w, " %5d", v)
		}
		fmt.Fprintln(w)
	}
}

func runPredict(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("predict", stderr)
	var m modelFlags
	m.register(fs)
	count := fs.Int("n", 10, "with -data: predict the first N test images")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := m.check(fs); err != nil {
		return err
	}
	files := fs.Args()
	switch {
	case m.data == "" && len(files) == 0:
		return flagError(fs, "give image files, or -data PATH for test images")
	case m.data != "" && len(files) > 0:
		return flagError(fs, "give either image files or -data, not both")
	case *count < 1:
		return flagError(fs, "-n %d: must be at least 1", *count)
	}
	var records []byte
	var dataClasses []string
	if m.data != "" {
		ds, err := loadDataset(context.Background(), m.data, stderr)
		if err != nil {
			return err
		}
		split, err := evalSplit(ds)
		if err != nil {
			return err
		}
		records, dataClasses = split.Head(min(*count, split.Len())).Records, ds.Classes
	} else {
		var err error
		if records, err = imageRecords(files); err != nil {
			return err
		}
	}
	b, err := openBackend(m.device.value, stderr)
	if err != nil {
		return err
	}
	defer b.Close()
	n, wclasses, err := loadModel(b, &m)
	if err != nil {
		return err
	}
	defer n.Free()
	if dataClasses != nil && len(dataClasses) != n.Classes {
		return fmt.Errorf("%s has %d outputs, but %s has %d classes", m.weights, n.Classes, m.data, len(dataClasses))
	}
	classes := classNames(n.Classes, dataClasses, wclasses)
	recs, err := b.UploadRecords(records, net.InputShape)
	if err != nil {
		return err
	}
	out := predictPrinter{w: stdout, json: m.jsonLines, classes: classes, files: files}
	_, err = net.Evaluate(b, n, recs, -1, m.batch, norm, out.print)
	if err != nil {
		return err
	}
	return out.err
}

// imageRecords decodes image files into records (label byte 0: unknown).
func imageRecords(files []string) ([]byte, error) {
	recs := make([]byte, 0, len(files)*cifar.RecordSize)
	for _, f := range files {
		pix, err := cifar.DecodeImageFile(f)
		if err != nil {
			return nil, err
		}
		recs = append(append(recs, 0), pix...)
	}
	return recs, nil
}

type predictPrinter struct {
	w       io.Writer
	json    bool
	classes []string
	files   []string // image files, or nil for dataset images with labels
	err     error
}

func (p *predictPrinter) print(pr net.Prediction) {
	if p.err != nil {
		return
	}
	if p.json {
		obj := map[string]any{"index": pr.Index, "pred": pr.Pred(), "pred_name": p.classes[pr.Pred()], "probs": pr.Probs}
		if len(p.files) > 0 {
			obj["file"] = p.files[pr.Index]
		} else {
			obj["label"], obj["label_name"] = pr.Label, p.classes[pr.Label]
		}
		p.err = json.NewEncoder(p.w).Encode(obj)
		return
	}
	var what string
	if len(p.files) > 0 {
		what = p.files[pr.Index]
	} else {
		what = fmt.Sprintf("#%d (%s)", pr.Index, p.classes[pr.Label])
	}
	order := make([]int, len(pr.Probs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case pr.Probs[a] > pr.Probs[b]:
			return -1
		case pr.Probs[a] < pr.Probs[b]:
			return 1
		}
		return 0
	})
	var top []string
	for _, c := range order[:min(3, len(order))] {
		top = append(top, fmt.Sprintf("%s %.1f%%", p.classes[c], 100*pr.Probs[c]))
	}
	_, p.err = fmt.Fprintf(p.w, "%s: %s\n", what, strings.Join(top, ", "))
}
