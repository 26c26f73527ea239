package cpu

import (
	"cifarlab/cpu/sgemm"
	"cifarlab/cpu/vec"
)

// Shifted lowering, for a stride-1 convolution with a centred kernel
// (K = 2·pad+1: the output as large as the input, every 3×3 with padding 1
// of ResNet18 and He et al.'s networks) and every tap live. No unrolled
// copy of the images (im2col) is made: a chunk of nb images is copied,
// plane by plane, into a padded layout, and each row (c, ky, kx) of col is
// that padded plane c seen from one shifted offset, which sgemm.GemmRows
// reads where it lies.
//
// The padded plane of channel c holds the nb images one after the other.
// Each image row of W values is followed by pad zeros (row width Wp =
// W+pad: the zeros after a row are also those before the next one), each
// image by pad rows of zeros, and pad rows and pad values of zeros lead.
// Output pixel (j, y, x) is column q = (j·Hs + y)·Wp + x of the product
// (Hs = H+pad), and tap (c, ky, kx) reads plane c at org + q + (ky−pad)·Wp
// + kx−pad, org being where pixel (0, 0) of image 0 lies. The product also
// has the columns of the padding (pad per row, pad rows between images);
// they are computed and dropped, except where the rows are a multiple of
// the matrix kernel's width (32 with AVX-512): then only each output row's
// columns are computed, written straight into y (sgemm.GemmRowsSegments).
//
// Backward data is the same lowering: dx is the convolution of dy with the
// weights transposed (Ci and Co swapped) and turned by 180°, padding pad.
// Backward params is dw = dy'·colᵀ with dy' dy in the padded layout (zero
// in the padding's columns, so that they add nothing) and the rows of col
// the same shifted views: on sgemm's panel kernels as dwᵀ = col·dy'ᵀ, dy'
// transposed (a column's Co values contiguous, broadcast against each term
// of a row of col), or on its dot path with the views as the rows of Bᵀ.

// shiftable reports whether d takes the shifted lowering: a stride-1
// centred kernel with every tap live, on a CPU whose matrix product reads
// rows in place (elsewhere packing them would copy as much as im2col), and
// planes large enough that the padding's columns add at most 30% to the
// product: 8×8 and larger for a 3×3 (8×8: 27%). ResNet18's 5×5, 3×3 and
// 2×2 planes (44%, 78%, 125%) were slower so (BenchmarkConv2D, 512
// channels on 2×2: 28–35 → 49–68 ms) and keep im2col. With AVX2 alone
// (6-row tiles, which read each row of B up to 11 times for 64 channels)
// at most 10%: 32×32 planes. resnet20 under CIFARLAB_SGEMM=avx2 (TestOpTimes,
// ms a step, alternating): on 32×32 forward 85–97 → 77–79, backward data
// 99–112 → 75–78, the weight gradient 103–114 → 92–94; but on 16×16 and
// 8×8 backward data 61–71 → 71–81.
func (d convDims) shiftable() bool {
	padded := (d.h + d.pad) * (d.w + d.pad)
	maxPad := 13 // tenths of the plane
	switch sgemm.RowsKernel() {
	case "":
		return false
	case "avx2":
		maxPad = 11
	}
	return d.stride == 1 && d.k > 1 && d.k == 2*d.pad+1 && d.allLive && d.kdim > 0 &&
		10*padded <= maxPad*d.h*d.w
}

// shiftPlan is the padded layout of nb images of h×w.
type shiftPlan struct {
	h, w, pad int
	wp, hs    int // padded row width W+pad, rows per image H+pad
	org       int // index of pixel (0, 0) of image 0 in a padded plane
	plane     int // floats per padded plane
	cols      int // columns of the product: up to the last image's last pixel
}

func planShift(h, w, pad, nb int) shiftPlan {
	wp, hs := w+pad, h+pad
	org := pad*wp + pad
	return shiftPlan{
		h: h, w: w, pad: pad, wp: wp, hs: hs, org: org,
		plane: org + nb*hs*wp,
		cols:  ((nb-1)*hs+h-1)*wp + w,
	}
}

// shiftChunk is how many images a chunk of the shifted lowering holds:
// about target columns, and enough chunks for every worker.
func (b *Backend) shiftChunk(d convDims, target int) int {
	per := (d.h + d.pad) * (d.w + d.pad)
	nb := max(1, target/per)
	return max(1, min(nb, (d.n+b.threads-1)/b.threads))
}

// fill copies channels 0..ch of images [i0, i1) of x (img floats per
// image, planes of h×w) into dst in the layout of sp, zeroes included.
func (sp shiftPlan) fill(dst, x []float32, ch, img, i0, i1 int) {
	hw := sp.h * sp.w
	for c := 0; c < ch; c++ {
		pl := dst[c*sp.plane:][:sp.plane]
		clear(pl[:sp.org])
		for j := 0; j < i1-i0; j++ {
			src := x[(i0+j)*img+c*hw:][:hw]
			base := sp.org + j*sp.hs*sp.wp
			for y := 0; y < sp.h; y++ {
				row := pl[base+y*sp.wp:][:sp.wp]
				copy(row[:sp.w], src[y*sp.w:][:sp.w])
				for i := sp.w; i < sp.wp; i++ {
					row[i] = 0
				}
			}
			clear(pl[base+sp.h*sp.wp : base+sp.hs*sp.wp])
		}
	}
}

// fillT writes channels 0..ch of images [i0, i1) of x (img floats per
// image, planes of h×w) transposed into dst: row q (ch values) is column q
// of the padded planes fill makes, from org on (the product's column q),
// for q < cols; the padding's rows are zero.
func (sp shiftPlan) fillT(dst, x []float32, ch, img, i0, i1 int) {
	dst = dst[:sp.cols*ch]
	hw := sp.h * sp.w
	for j := 0; j < i1-i0; j++ {
		for y := 0; y < sp.h; y++ {
			q := (j*sp.hs + y) * sp.wp
			sgemm.Transpose(dst[q*ch:], ch, x[(i0+j)*img+y*sp.w:], hw, ch, sp.w)
			clear(dst[min(len(dst), (q+sp.w)*ch):min(len(dst), (q+sp.wp)*ch)])
		}
		clear(dst[min(len(dst), (j*sp.hs+sp.h)*sp.wp*ch):min(len(dst), (j+1)*sp.hs*sp.wp*ch)])
	}
}

// offsets sets offs to where each row of col starts in the padded planes
// of ch channels, for a k×k kernel: rows (c, ky, kx) in that order, or
// (ky, kx, c) when tapsOuter.
func (sp shiftPlan) offsets(offs []int, ch, k int, tapsOuter bool) {
	for c := 0; c < ch; c++ {
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				r := (c*k+ky)*k + kx
				if tapsOuter {
					r = (ky*k+kx)*ch + c
				}
				offs[r] = c*sp.plane + sp.org + (ky-sp.pad)*sp.wp + kx - sp.pad
			}
		}
	}
}

// padded copies images [i0, i1) of x (ch planes, img floats per image)
// into s.col in the layout of sp and returns them with the offsets of the
// rows of col of a k×k kernel (see offsets).
func (s *scratch) padded(sp shiftPlan, x []float32, ch, img, k int, tapsOuter bool, i0, i1 int) (xp []float32, offs []int) {
	xp = grow(&s.col, ch*sp.plane)
	sp.fill(xp, x, ch, img, i0, i1)
	kdim := ch * k * k
	if cap(s.offs) < kdim {
		s.offs = make([]int, kdim)
	}
	offs = s.offs[:kdim]
	sp.offsets(offs, ch, k, tapsOuter)
	return xp, offs
}

// segs returns scratch for n segments of GemmRowsSegments: their columns
// of the product and their offsets in the output.
func (s *scratch) segs(n int) (q, at []int) {
	if cap(s.segQ) < n {
		s.segQ, s.segAt = make([]int, n), make([]int, n)
	}
	return s.segQ[:n], s.segAt[:n]
}

// shiftConv computes images [i0, i1) of y = x ⋆ w + bias for a centred
// k×k kernel with padding pad and stride 1: x has cin planes of h×w per
// image, y cout, w is [cout, cin·k·k] with its columns in the order
// (c, ky, kx), or (ky, kx, c) when tapsOuter; bias is nil or cout long.
func shiftConv(s *scratch, y, x, w, bias []float32, cin, cout, h, w0, k, pad int, tapsOuter bool, i0, i1 int) {
	nb := i1 - i0
	sp := planShift(h, w0, pad, nb)
	kdim := cin * k * k
	xp, offs := s.padded(sp, x, cin, cin*h*w0, k, tapsOuter, i0, i1)
	hw := h * w0
	if sw := sgemm.SegmentWidth(cout); sw > 0 && w0%sw == 0 {
		// Each output row of the chunk's images straight into y: no
		// product of the padding's columns, no copy out of them.
		q, at := s.segs(nb * h)
		for j := 0; j < nb; j++ {
			for r := 0; r < h; r++ {
				q[j*h+r] = (j*sp.hs + r) * sp.wp
				at[j*h+r] = (i0+j)*cout*hw + r*w0
			}
		}
		sgemm.GemmRowsSegments(cout, w0, kdim, w, kdim, xp, offs, q, at, y, hw)
		if bias != nil {
			for j := 0; j < nb; j++ {
				for o := 0; o < cout; o++ {
					pl := y[(i0+j)*cout*hw+o*hw:][:hw]
					vec.Affine(pl, pl, 1, bias[o]) // v·1 + b is v + b
				}
			}
		}
		return
	}
	out := grow(&s.out, cout*sp.cols)
	sgemm.GemmRows(false, false, cout, sp.cols, kdim, 1, w, kdim, xp, offs, 0, out, sp.cols)
	for j := 0; j < nb; j++ {
		for o := 0; o < cout; o++ {
			dst := y[(i0+j)*cout*hw+o*hw:][:hw]
			src := out[o*sp.cols+j*sp.hs*sp.wp:]
			for r := 0; r < h; r++ {
				if bias == nil {
					copy(dst[r*w0:][:w0], src[r*sp.wp:][:w0])
					continue
				}
				vec.Affine(dst[r*w0:][:w0], src[r*sp.wp:][:w0], 1, bias[o]) // v·1 + b is v + b
			}
		}
	}
}

// shiftParams sets acc = beta·acc + dy'·colᵀ for images [i0, i1), acc
// being [Co, Ci·K·K].
func shiftParams(s *scratch, acc []float32, beta float32, dy, x []float32, d convDims, i0, i1 int) {
	sp := planShift(d.h, d.w, d.pad, i1-i0)
	xp, offs := s.padded(sp, x, d.ci, d.imgIn, d.k, false, i0, i1)
	if sgemm.PanelCols(d.co) {
		// dwᵀ = col·dy'ᵀ, dy' transposed so that a column's Co values are
		// contiguous: sgemm's panel kernels read both where they lie.
		dt := grow(&s.out, sp.cols*d.co)
		sp.fillT(dt, dy, d.co, d.imgOut, i0, i1)
		wt := grow(&s.wt, d.kdim*d.co)
		sgemm.GemmRowsPanel(d.kdim, d.co, sp.cols, xp, offs, dt, 0, wt, d.co)
		for o := 0; o < d.co; o++ {
			dst := acc[o*d.kdim:][:d.kdim]
			if beta == 0 {
				for j := range dst {
					dst[j] = wt[j*d.co+o]
				}
				continue
			}
			for j := range dst {
				dst[j] += wt[j*d.co+o]
			}
		}
		return
	}
	dp := grow(&s.out, d.co*sp.plane)
	sp.fill(dp, dy, d.co, d.imgOut, i0, i1)
	// In pieces of columns of dw that sgemm's dot path takes.
	piece := sgemm.DotMaxCols(d.co)
	for j := 0; j < d.kdim; j += piece {
		j1 := min(d.kdim, j+piece)
		sgemm.GemmRows(false, true, d.co, j1-j, sp.cols, 1, dp[sp.org:], sp.plane, xp, offs[j:j1], beta, acc[j:], d.kdim)
	}
}

// flipWeights returns w[Co, Ci, K, K] transposed and turned by 180° as a
// [Ci, K·K·Co] matrix, columns in the order (ky, kx, o): the weights of
// backward data as a convolution. With the taps outer, dx sums each tap's
// products over the channels of dy in turn, as col2im added them.
func (b *Backend) flipWeights(d convDims, w []float32) []float32 {
	out := grow(&b.wflip, d.ci*d.co*d.k*d.k)
	kk := d.k * d.k
	for o := 0; o < d.co; o++ {
		for c := 0; c < d.ci; c++ {
			src := w[(o*d.ci+c)*kk:][:kk]
			dst := out[c*kk*d.co:][:kk*d.co]
			for t := range kk {
				dst[t*d.co+o] = src[kk-1-t]
			}
		}
	}
	return out
}

// shiftParamsCols is how many times colTarget columns a chunk of the
// weight gradient takes: its inner dimension, beyond what sgemm's dot path
// needs. For resnet20's [16,16,3,3] at batch 256, chunks of 1, 2, 4, 8
// and 16 times colTarget took 30, 33, 16–19, 12–13 and 12–13 ms.
const shiftParamsCols = 8

// shiftParamsMaxCo is the most output channels for which the weight
// gradient takes the shifted lowering on sgemm's dot path (see
// Conv2DBackwardParams).
const shiftParamsMaxCo = 32
