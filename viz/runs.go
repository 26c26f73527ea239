package viz

import (
	"image"
	"image/color"
)

// Earlier runs of the session, drawn under the present one in the loss
// and accuracy charts so that they can be compared: one colour per run,
// and above the loss chart a chip per run (click: hide or show; ×:
// forget).

// runColors are the earlier runs' colours (Okabe and Ito's palette, which
// stays apart for the common colour blindnesses), by run ID.
var runColors = []color.RGBA{
	{0xe6, 0x9f, 0x00, 0xff}, {0x56, 0xb4, 0xe9, 0xff}, {0x00, 0x9e, 0x73, 0xff},
	{0xcc, 0x79, 0xa7, 0xff}, {0xd5, 0x5e, 0x00, 0xff}, {0xf0, 0xe4, 0x42, 0xff},
}

func runColor(id int) color.RGBA { return runColors[(id%len(runColors)+len(runColors))%len(runColors)] }

// shownRuns are the earlier runs not hidden.
func (u *UI) shownRuns() []Run {
	if u.snap == nil {
		return nil
	}
	var out []Run
	for _, r := range u.snap.Runs {
		if !u.hiddenRuns[r.ID] {
			out = append(out, r)
		}
	}
	return out
}

// runChips paints a chip per earlier run in r: its colour and name
// (click to hide or show it) and × (forget it; not for the experiment's
// live run). The present run is the white curve.
func (u *UI) runChips(dst *image.RGBA, clip, r image.Rectangle) {
	x := r.Min.X
	if dst != nil {
		fill(dst, image.Rect(x, r.Min.Y+6, x+10, r.Min.Y+9), colText)
	}
	x = u.fSmall.text(dst, clip, x+14, r.Min.Y+12, "now", colDim) + 10
	for _, run := range u.snap.Runs {
		hidden := u.hiddenRuns[run.ID]
		label := run.Short
		w := min(u.fSmall.width(label)+22, r.Max.X-x-18)
		if w < 30 {
			break
		}
		chip := image.Rect(x, r.Min.Y, x+w, r.Max.Y)
		id := run.ID
		u.add(region{r: chip, kind: kindButton, key: "btn:run", indexed: true, idx: id, label: run.Name,
			act: func() []Intent { u.hiddenRuns[id] = !u.hiddenRuns[id]; u.changed(); return nil }})
		if dst != nil {
			col, tc := runColor(id), colText
			if hidden {
				col, tc = colFaint, colFaint
			}
			if u.hover == (rid{"btn:run", id}) {
				stroke(dst, chip, colAccent)
			}
			fill(dst, image.Rect(x+3, r.Min.Y+5, x+13, r.Min.Y+10), col)
			u.fSmall.text(dst, clip, x+16, r.Min.Y+12, u.fSmall.fit(label, w-18), tc)
		}
		if run.Live { // trains alongside: nothing to forget
			x = chip.Max.X + 6
			continue
		}
		forget := image.Rect(chip.Max.X, r.Min.Y, chip.Max.X+14, r.Max.Y)
		u.add(region{r: forget, kind: kindButton, key: "btn:forget", indexed: true, idx: id, label: "forget " + run.Name,
			act: func() []Intent { delete(u.hiddenRuns, id); return []Intent{{Kind: ForgetRun, Run: id}} }})
		u.fSmall.text(dst, clip, forget.Min.X+2, r.Min.Y+12, "×", colDim)
		x = forget.Max.X + 6
	}
}

// exportW is the room the export buttons take on the loss chart's title
// line.
const exportW = 54 + 40 + 4 + 6

// exportButtons paints the buttons that export the runs the charts show
// (the present one and every earlier run not hidden) as JSON Lines, the
// schema of cifarlab train -log, or as CSV.
func (u *UI) exportButtons(dst *image.RGBA, r image.Rectangle) {
	var act func(format string) func() []Intent
	if s := u.snap; s != nil && len(s.Loss) > 0 {
		act = func(format string) func() []Intent {
			return func() []Intent {
				ids := []int{0}
				for _, run := range u.shownRuns() {
					ids = append(ids, run.ID)
				}
				return []Intent{{Kind: ExportRuns, Format: format, Runs: ids, Path: u.path}}
			}
		}
	}
	x1 := r.Max.X - 6
	for _, f := range []struct {
		key, label, format string
		w                  int
	}{{"export-csv", "CSV", "csv", 40}, {"export-jsonl", "JSONL", "jsonl", 54}} {
		var a func() []Intent
		if act != nil {
			a = act(f.format)
		}
		u.button(dst, image.Rect(x1-f.w, r.Min.Y+3, x1, r.Min.Y+21), f.key, f.label, false, a)
		x1 -= f.w + 4
	}
}
