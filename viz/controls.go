package viz

// The controls: model, learning rate, batch size and training commands.

import (
	"fmt"
	"image"
)

// controls: model, learning rate, batch size and the training's commands.
func (u *UI) controls(dst *image.RGBA, r image.Rectangle) {
	c := u.panel(dst, r, "controls", "Controls", "Space starts or pauses", 0, "")
	s := u.snap
	lx, bx := c.Min.X, c.Min.X+52
	row := func(i int) (int, int) { return c.Min.Y + 2 + i*rowH, c.Min.Y + 2 + i*rowH + 22 }
	label := func(i int, t string) {
		y0, _ := row(i)
		u.fSmall.text(dst, r, lx, y0+15, t, colDim)
	}
	// buttons lays out n equal buttons from x0 to x1 on row i.
	cells := func(i, n, x0, x1 int) []image.Rectangle {
		y0, y1 := row(i)
		w := (x1 - x0 - (n-1)*4) / n
		out := make([]image.Rectangle, n)
		for k := range out {
			out[k] = image.Rect(x0+k*(w+4), y0, x0+k*(w+4)+w, y1)
		}
		return out
	}
	lr, batch := 0.0, 0
	if s != nil {
		lr, batch = s.LR, s.Batch
	}

	label(0, "model")
	u.modelPicker(dst, bx, c.Max.X, row)

	label(1, "lr")
	y0, y1 := row(1)
	u.button(dst, image.Rect(bx, y0, bx+24, y1), "lr-", "−", false, func() []Intent { return u.setLR(u.curLR() / 2) })
	shown := "–"
	if lr > 0 {
		shown = formatLR(lr)
	}
	u.field(dst, image.Rect(bx+28, y0, bx+128, y1), "lr", shown, u.fieldErr != "")
	u.button(dst, image.Rect(bx+132, y0, bx+156, y1), "lr+", "+", false, func() []Intent { return u.setLR(u.curLR() * 2) })
	u.fSmall.text(dst, r, bx+164, y0+15, "÷2 ×2, or type", colFaint)
	for k, v := range lrPresets {
		u.button(dst, cells(2, len(lrPresets), bx, c.Max.X)[k], "lr:"+presetLabel(v), presetLabel(v), sameLR(lr, v),
			func() []Intent { return u.setLR(v) })
	}

	label(3, "batch")
	for k, b := range batchPresets {
		u.button(dst, cells(3, len(batchPresets), bx, c.Max.X)[k], fmt.Sprintf("batch:%d", b), fmt.Sprint(b), batch == b,
			func() []Intent { return []Intent{{Kind: SetBatch, Batch: b}} })
	}

	cmd := cells(4, 3, lx, c.Max.X)
	startLabel := "► Start"
	if s != nil && s.Running {
		startLabel = "Pause"
	}
	u.button(dst, cmd[0], "start", startLabel, s != nil && s.Running, u.startPause)
	u.button(dst, cmd[1], "step", "Step", false, func() []Intent { return []Intent{{Kind: StepOnce}} })
	u.button(dst, cmd[2], "reset", "Reset weights", false, func() []Intent { return []Intent{{Kind: Reset}} })
	io := cells(5, 3, lx, c.Max.X)
	u.button(dst, io[0], "save", "Save weights", false, func() []Intent { return []Intent{{Kind: Save, Path: u.path}} })
	u.button(dst, io[1], "load", "Load weights", false, func() []Intent { return []Intent{{Kind: Load, Path: u.path}} })
	u.experimentButton(dst, io[2])
	if u.opts.WeightsPath != "" {
		label(6, "file")
		y0, y1 := row(6)
		u.field(dst, image.Rect(bx, y0, c.Max.X, y1), "path", u.path, false)
	}
}

// modelPicker is the model row: the previous and next network of the
// snapshot's Models (keeping BatchNorm on or off where the next one has
// it), the present one's title, and BatchNorm on or off.
func (u *UI) modelPicker(dst *image.RGBA, x0, x1 int, row func(int) (int, int)) {
	y0, y1 := row(0)
	s := u.snap
	var models []ModelChoice
	model := ""
	if s != nil {
		models, model = s.Models, s.Model
	}
	at, nobn := -1, false
	for i, m := range models {
		switch model {
		case m.Name:
			at = i
		case m.NoBN:
			at, nobn = i, m.NoBN != ""
		}
	}
	pick := func(i int) func() []Intent {
		if len(models) == 0 {
			return nil
		}
		m := models[(i+len(models))%len(models)]
		name := m.Name
		if nobn && m.NoBN != "" {
			name = m.NoBN
		}
		return func() []Intent { return []Intent{{Kind: SetModel, Model: name}} }
	}
	bnW := 56
	nameR := image.Rect(x0+28, y0, x1-28-bnW-4, y1)
	u.button(dst, image.Rect(x0, y0, x0+24, y1), "model-prev", "◄", false, pick(at-1))
	u.button(dst, nameR, "model", modelName(s, model), false, pick(at+1))
	u.button(dst, image.Rect(nameR.Max.X+4, y0, nameR.Max.X+28, y1), "model-next", "►", false, pick(at+1))
	bn := "no BN"
	var toggle func() []Intent
	if at >= 0 && models[at].NoBN != "" {
		bn = "BN on"
		if nobn {
			bn = "BN off"
		}
		m := models[at]
		name := m.NoBN
		if nobn {
			name = m.Name
		}
		toggle = func() []Intent { return []Intent{{Kind: SetModel, Model: name}} }
	}
	u.button(dst, image.Rect(x1-bnW, y0, x1, y1), "model-bn", bn, at >= 0 && models[at].NoBN != "" && !nobn, toggle)
}

func sameLR(a, b float64) bool {
	return a > 0 && b > 0 && a/b > 0.999 && a/b < 1.001
}
