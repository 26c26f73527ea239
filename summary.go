package main

import (
	"fmt"
	"io"
	"strings"

	"cifarlab/cpu"
	"cifarlab/net"
)

func runSummary(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("summary", stderr)
	model := registerModel(fs, "lenet5", "")
	classes := fs.Int("classes", 10, "outputs of the last layer")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return flagError(fs, "unexpected argument %q", fs.Arg(0))
	}
	if *classes < 2 {
		return flagError(fs, "-classes %d: must be at least 2", *classes)
	}
	if err := model.check(fs); err != nil {
		return err
	}
	b := cpu.New()
	defer b.Close()
	n, err := net.New(b, model.name(), *classes, 0)
	if err != nil {
		return err
	}
	defer n.Free()
	in := append(net.Shape{2}, net.InputShape...)
	rows, err := n.Summary(in)
	if err != nil {
		return err
	}
	printSummary(stdout, n, in, rows)
	return nil
}

func printSummary(w io.Writer, n *net.Network, in net.Shape, rows []net.SummaryRow) {
	fmt.Fprintf(w, "%s, input %v\n\n", n.Model, in)
	fmt.Fprintf(w, "%-22s %-54s %-16s %12s\n", "layer", "module", "output", "parameters")
	for _, r := range rows {
		name := strings.Repeat("  ", r.Depth) + r.Name
		fmt.Fprintf(w, "%-22s %-54s %-16s %12s\n", name, r.Kind, r.Out, thousands(r.Params))
	}
	st := n.State()
	buffers := 0
	for _, b := range st.Buffers {
		buffers += b.Shape.Len()
	}
	fmt.Fprintf(w, "\ntrainable parameters: %s\n", thousands(n.NumParams()))
	if buffers > 0 {
		fmt.Fprintf(w, "BatchNorm buffers:    %s running statistics + %d num_batches_tracked\n", thousands(buffers), len(st.Counters))
	}
}

// thousands formats n with commas: 9,817,354.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
