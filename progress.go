package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws one epoch's progress bar: images done, images/s, the
// running loss and the time left. On a terminal it redraws one line a few
// times a second; otherwise it prints a line every tenth of the epoch.
type progress struct {
	w        io.Writer
	tty      bool
	label    string
	total    int
	start    time.Time
	last     time.Time
	lastTen  int
	done     int
	lossSum  float64
	lossN    int
	finished bool
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newProgress(w io.Writer, label string, total int) *progress {
	now := time.Now()
	return &progress{w: w, tty: isTerminal(w), label: label, total: total, start: now, last: now}
}

// add records a finished batch of n images with its mean loss.
func (p *progress) add(n int, loss float64) {
	p.done += n
	p.lossSum += loss * float64(n)
	p.lossN += n
	now := time.Now()
	if p.tty {
		if now.Sub(p.last) >= 150*time.Millisecond || p.done >= p.total {
			p.last = now
			fmt.Fprintf(p.w, "\r%s", p.line(now))
		}
		return
	}
	if ten := p.done * 10 / max(p.total, 1); ten > p.lastTen {
		p.lastTen = ten
		fmt.Fprintln(p.w, p.line(now))
	}
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.tty && !p.finished {
		fmt.Fprintln(p.w)
	}
	p.finished = true
}

func (p *progress) line(now time.Time) string {
	const width = 24
	frac := float64(p.done) / float64(max(p.total, 1))
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	el := now.Sub(p.start).Seconds()
	rate := float64(p.done) / max(el, 1e-9)
	eta := "?"
	if p.done > 0 && rate > 0 {
		eta = fmtDuration(time.Duration(float64(p.total-p.done) / rate * float64(time.Second)))
	}
	loss := p.lossSum / float64(max(p.lossN, 1))
	return fmt.Sprintf("%s [%s] %d/%d  %.0f img/s  loss %.4f  ETA %s ", p.label, bar, p.done, p.total, rate, loss, eta)
}

func fmtDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
