package viz

import (
	"image"
	"strings"
)

// Each panel's "?" opens a short note on what the panel shows, true to what
// it draws; a click anywhere or Escape closes it.

// helpTexts are the notes, by panel name; map panels share "maps".
var helpTexts = map[string]string{
	"input": "The image the network is looking at, enlarged from its 32×32 pixels, with its true label and " +
		"the network's three most probable classes (green: the true one). The saliency toggle colours the " +
		"pixels by how much they sway the top class: |∂ score / ∂ pixel|, the largest over red, green and blue.",
	"strip": "Test images the network never trains on. Click one (or use ← →) to inspect it; every panel " +
		"on the right then shows what the network computes for it.",
	"controls": "The network (◄ ► through the seven, BatchNorm on or off), Adam's learning rate, the " +
		"images per step, and training: Start/Pause (Space), one Step, new weights from the seed, saving and " +
		"loading the weights (safetensors with PyTorch's names), and the shortcut experiment.",
	"loss": "The cross-entropy of every training step (faint) and its running mean (bright). It starts " +
		"near ln 10 = 2.30, chance among ten classes, and falls as the network learns. Coloured curves are " +
		"earlier runs, or the experiment's other network; the chips hide or show them.",
	"accuracy": "After each epoch: the share of the training images classified right during the epoch " +
		"(blue) and of the test images after it (orange). Training accuracy far above test accuracy means " +
		"the network memorises rather than learns.",
	"legend": "How the maps are coloured: blue negative, black zero, orange positive, each map scaled by " +
		"its own largest |value|. Hover (or focus) a map or a bar to read its values here.",
	"maps": "Feature maps: one tile per channel of this layer's output for the inspected image, at the " +
		"layer's resolution. Bright where the layer's filter finds its pattern in the image; the wheel or " +
		"PgUp/PgDn pages through many channels.",
	"filters": "The first convolution's weights, one tile per filter, its three input channels shown as " +
		"red, green and blue, each tile stretched to its own range: the colours and edges the first layer " +
		"looks for.",
	"fc": "The fully connected layers' outputs for the inspected image, as bars; the last are the logits, " +
		"whose softmax is the prediction.",
	"blocks": "Each residual block's main path (two convolutions), its shortcut (the input, or a 1×1 " +
		"projection where the shape changes) and their sum, which is the block's output. A plain block has " +
		"no shortcut: its output is the main path alone.",
	"grads": "The L2 norm of the gradient of each layer's weights at the last step, input layer on the " +
		"left, on a log scale: how much each layer is being taught. In a deep plain network without " +
		"BatchNorm the first layers get almost nothing (a vanishing gradient). Per block: the gradient " +
		"arriving at each block's output, and what its main path alone passes back.",
	"gradlines": "The first, middle and last layer's gradient norms over the steps, on a log scale: " +
		"whether the gradient reaching the first layers stays small as training goes on.",
	"evaluation": "The network on the test images: rows are the true class, columns the predicted one, " +
		"each row shaded by its share of the class's images (green: right, orange: a mistake). A cell " +
		"shows its images; an image, clicked, is inspected.",
	"experiment": "A residual network and the same network without shortcuts train in turns on the " +
		"same batches from the same weights. The text says, from this run's own numbers, how much of the " +
		"gradient reaches each one's first layer and how their losses compare.",
}

// helpFor is the note of a panel, "" for none.
func helpFor(name string) string {
	if t, ok := helpTexts[name]; ok {
		return t
	}
	if strings.Contains(name, "conv") || strings.Contains(name, "pool") || strings.Contains(name, ".") {
		return helpTexts["maps"]
	}
	return ""
}

// helpButton paints a panel's "?" at x on its title line and returns the
// x after it.
func (u *UI) helpButton(dst *image.RGBA, r image.Rectangle, name string, x int) int {
	if helpFor(name) == "" || r.Dx() < 120 {
		return x
	}
	b := image.Rect(x+6, r.Min.Y+4, x+6+18, r.Min.Y+20)
	u.button(dst, b, "help:"+name, "?", u.help == name, func() []Intent {
		if u.help == name {
			u.help = ""
		} else {
			u.help = name
		}
		u.changed()
		return nil
	})
	return b.Max.X
}

// helpOverlay paints the open note over the frame, under its panel's title.
func (u *UI) helpOverlay(dst *image.RGBA) {
	if u.help == "" || dst == nil {
		return
	}
	p, ok := u.panelOf(u.help)
	if !ok {
		return
	}
	const w = 460
	lines := u.fText.wrap(helpFor(u.help), w-20)
	h := 12 + len(lines)*u.fText.height
	x := min(max(p.Min.X+8, 4), Width-w-4)
	y := min(p.Min.Y+titleH, Height-h-4)
	box := image.Rect(x, y, x+w, y+h)
	fill(dst, box, colPanel)
	stroke(dst, box, colFocus)
	for i, l := range lines {
		u.fText.text(dst, box, box.Min.X+10, box.Min.Y+6+u.fText.ascent+i*u.fText.height, l, colText)
	}
}

// panelOf finds a panel's rectangle in the layout being drawn.
func (u *UI) panelOf(name string) (image.Rectangle, bool) {
	for _, r := range u.regions {
		if r.kind == kindPanel && r.name == name {
			return r.r, true
		}
	}
	return image.Rectangle{}, false
}
