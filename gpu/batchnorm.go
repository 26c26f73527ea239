package gpu

import "cifarlab/net"

// bnParams mirrors Params in shaders/batchnorm.wgsl.
type bnParams struct {
	N        uint32  `wgsl:"n"`
	C        uint32  `wgsl:"c"`
	HW       uint32  `wgsl:"hw"`
	Total    uint32  `wgsl:"total"`
	Seg      uint32  `wgsl:"seg"`
	CPG      uint32  `wgsl:"cpg"`
	Groups   uint32  `wgsl:"groups"`
	Chunks   uint32  `wgsl:"chunks"`
	PerChunk uint32  `wgsl:"per_chunk"`
	CoefOff  uint32  `wgsl:"coef_off"`
	Momentum float32 `wgsl:"momentum"`
	Eps      float32 `wgsl:"eps"`
	ReLU     uint32  `wgsl:"relu"`
	Residual uint32  `wgsl:"residual"`
	Pad1     uint32  `wgsl:"_pad1"`
	Pad2     uint32  `wgsl:"_pad2"`
}

// The kernels of batchnorm.wgsl. Bindings: 1 x, 2 dy, 3 gamma, 4 beta,
// 5 mean, 6 invstd, 7 run_mean, 8 run_var (read); 9 scratch (partials and
// coefficients), 10 coef (scratch, read), 11 out (y or dx), 12 mean_out,
// 13 invstd_out, 14 run_mean_io, 15 run_var_io, 16 dgamma, 17 dbeta,
// 18 yrelu (read: a fused ReLU's output, or dy itself), 19 res (read: the
// residual bn_normalize adds, or x itself).
var (
	kBNStats    = newKernel[bnParams]("batchnorm.wgsl", "bn_stats", 256, slot{1, read}, slot{9, readWrite})
	kBNFinalize = newKernel[bnParams]("batchnorm.wgsl", "bn_finalize", 256,
		slot{9, readWrite}, slot{12, readWrite}, slot{13, readWrite}, slot{14, readWrite}, slot{15, readWrite})
	kBNNormalize = newKernel[bnParams]("batchnorm.wgsl", "bn_normalize", 256,
		slot{1, read}, slot{5, read}, slot{6, read}, slot{3, read}, slot{4, read}, slot{11, readWrite}, slot{19, read})
	kBNEval = newKernel[bnParams]("batchnorm.wgsl", "bn_eval", 256,
		slot{1, read}, slot{7, read}, slot{8, read}, slot{3, read}, slot{4, read}, slot{11, readWrite})
	kBNBackwardSums = newKernel[bnParams]("batchnorm.wgsl", "bn_backward_sums", 256,
		slot{2, read}, slot{1, read}, slot{5, read}, slot{9, readWrite}, slot{18, read})
	kBNBackwardFinalize = newKernel[bnParams]("batchnorm.wgsl", "bn_backward_finalize", 256,
		slot{9, readWrite}, slot{6, read}, slot{3, read}, slot{16, readWrite}, slot{17, readWrite})
	kBNBackwardDx = newKernel[bnParams]("batchnorm.wgsl", "bn_backward_dx", 256,
		slot{2, read}, slot{1, read}, slot{5, read}, slot{10, read}, slot{11, readWrite}, slot{18, read})
)

// bnTargetGroups is about the number of reduction workgroups a batch norm
// spreads over: a few per multiprocessor of a large GPU, and one per
// channel group on a CPU-emulated device, whose every workgroup barrier
// costs tens of microseconds. bnMinValues is the fewest values one
// invocation sums per pass. Variables so that tests can change them.
var (
	bnTargetGroups    = 1024
	bnTargetGroupsCPU = 1
	bnMinValues       = 8
)

// bnPlan returns the Params of a batch norm of x [n, c, h·w = hw]: the
// reduction workgroups take cpg channels (seg invocations each) and
// PerChunk images, so that there are about target of them while each
// invocation sums at least bnMinValues values. The partials in scratch
// take 2·Chunks·c values (CoefOff), the backward's coefficients 4·c more.
func bnPlan(n, c, hw, target int) bnParams {
	seg := max(1, min(hw, 256))
	cpg := 256 / seg
	groups := (c + cpg - 1) / cpg
	perLane := max(1, (hw+255)/256) // values of one image per invocation
	per := max((bnMinValues+perLane-1)/perLane, (n*groups+target-1)/max(target, 1))
	per = max(1, min(per, n))
	chunks := (n + per - 1) / per
	return bnParams{
		N: uint32(n), C: uint32(c), HW: uint32(hw), Total: uint32(n * c * hw),
		Seg: uint32(seg), CPG: uint32(cpg), Groups: uint32(groups),
		Chunks: uint32(chunks), PerChunk: uint32(per), CoefOff: uint32(2 * chunks * c),
	}
}

// bnPlan is the plan of a batch norm on b's device.
func (b *Backend) bnPlan(n, c, hw int) bnParams {
	if b.CPUEmulation() {
		return bnPlan(n, c, hw, bnTargetGroupsCPU)
	}
	return bnPlan(n, c, hw, bnTargetGroups)
}

// reductionWork is the invocations of a reduction kernel's dispatch.
func (p *bnParams) reductionWork() int { return int(p.Groups) * int(p.Chunks) * 256 }

// bnDims validates a batch norm of x [N,C,H,W]: every tensor of ys has x's
// shape and every tensor of cs is [C] (names in the order of the tensors).
func bnDims(op string, x *Tensor, ys []*Tensor, yNames []string, cs []*Tensor, cNames []string) (n, c, hw int) {
	n, c, h, w := dims4(op, "x", x.shape)
	for i, y := range ys {
		mustShape(op, yNames[i], y.shape, n, c, h, w)
	}
	for i, t := range cs {
		mustShape(op, cNames[i], t.shape, c)
	}
	return n, c, h * w
}

// scratch takes a pooled buffer for floats values, to bind as region r
// for the ops recorded next; done returns it to the pool once they are
// recorded (later users of the buffer run after them).
func (b *Backend) scratch(op string, floats int) (r region, done func()) {
	buf := b.tensors.get(b, op, 4*uint64(floats))
	if buf == nil {
		return region{}, func() {}
	}
	return region{buf: buf, size: 4 * uint64(floats)}, func() { b.tensors.put(buf) }
}

// BatchNorm2DTrain normalises with the batch statistics and updates the
// running statistics (runVar from the unbiased variance), in three
// dispatches: partial statistics per chunk of images, their merge per
// channel, and the normalisation per element.
func (b *Backend) BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, runMean, runVar net.Tensor, momentum, eps float32) {
	b.bnTrain("BatchNorm2DTrain", 0, nil, y, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

// BatchNorm2DTrainReLU is BatchNorm2DTrain with the ReLU after it fused
// into the normalisation's dispatch.
func (b *Backend) BatchNorm2DTrainReLU(y, mean, invstd, x, gamma, beta, runMean, runVar net.Tensor, momentum, eps float32) {
	b.bnTrain("BatchNorm2DTrainReLU", 1, nil, y, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

// BatchNorm2DTrainAdd is BatchNorm2DTrain with r added (and the ReLU after
// it, with relu) in the normalisation's dispatch.
func (b *Backend) BatchNorm2DTrainAdd(y, mean, invstd, x, gamma, beta, runMean, runVar, r net.Tensor, relu bool, momentum, eps float32) {
	var ru uint32
	if relu {
		ru = 1
	}
	b.bnTrain("BatchNorm2DTrainAdd", ru, r, y, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

// bnTrain is BatchNorm2DTrain, plus r (when not nil), then the ReLU (when
// relu is 1), in the normalisation's dispatch.
func (b *Backend) bnTrain(op string, relu uint32, r, y, mean, invstd, x, gamma, beta, runMean, runVar net.Tensor, momentum, eps float32) {
	Y, M, I, X := tensor(op, "y", y), tensor(op, "mean", mean), tensor(op, "invstd", invstd), tensor(op, "x", x)
	G, B := tensor(op, "gamma", gamma), tensor(op, "beta", beta)
	RM, RV := tensor(op, "runMean", runMean), tensor(op, "runVar", runVar)
	ys, yNames := []*Tensor{Y}, []string{"y"}
	// Without a residual, res is not read: the first value of x is bound
	// there, so that the bytes a step binds count only what it reads.
	res, residual := X.st.region(), uint32(0)
	res.size = 4
	if r != nil {
		R := tensor(op, "r", r)
		ys, yNames = append(ys, R), append(yNames, "r")
		res, residual = R.st.region(), 1
	}
	n, c, hw := bnDims(op, X, ys, yNames,
		[]*Tensor{M, I, G, B, RM, RV}, []string{"mean", "invstd", "gamma", "beta", "runMean", "runVar"})
	if n*hw < 2 {
		panicf("%s: x %v has %d value per channel, need more than 1", op, X.shape, n*hw)
	}
	if c == 0 {
		return
	}
	p := b.bnPlan(n, c, hw)
	p.Momentum, p.Eps, p.ReLU, p.Residual = momentum, eps, relu, residual
	s, done := b.scratch(op, int(p.CoefOff))
	defer done()
	dispatch(b, op, kBNStats, p.reductionWork(), &p, X.st.region(), s)
	dispatch(b, op, kBNFinalize, c, &p, s, M.st.region(), I.st.region(), RM.st.region(), RV.st.region())
	dispatch(b, op, kBNNormalize, int(p.Total), &p,
		X.st.region(), M.st.region(), I.st.region(), G.st.region(), B.st.region(), Y.st.region(), res)
}

// BatchNorm2DEval normalises with the running statistics, one dispatch.
func (b *Backend) BatchNorm2DEval(y, x, gamma, beta, runMean, runVar net.Tensor, eps float32) {
	const op = "BatchNorm2DEval"
	Y, X := tensor(op, "y", y), tensor(op, "x", x)
	G, B := tensor(op, "gamma", gamma), tensor(op, "beta", beta)
	RM, RV := tensor(op, "runMean", runMean), tensor(op, "runVar", runVar)
	n, c, hw := bnDims(op, X, []*Tensor{Y}, []string{"y"},
		[]*Tensor{G, B, RM, RV}, []string{"gamma", "beta", "runMean", "runVar"})
	p := bnParams{N: uint32(n), C: uint32(c), HW: uint32(hw), Total: uint32(n * c * hw), Eps: eps}
	dispatch(b, op, kBNEval, int(p.Total), &p,
		X.st.region(), RM.st.region(), RV.st.region(), G.st.region(), B.st.region(), Y.st.region())
}

// BatchNorm2DBackward is dx, dgamma and dbeta of a training-mode batch
// norm, in three dispatches: Σdy and Σdy·(x−mean) per chunk of images,
// their merge per channel (dgamma, dbeta and the coefficients of dx), and
// dx per element.
func (b *Backend) BatchNorm2DBackward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma net.Tensor) {
	b.bnBackward("BatchNorm2DBackward", dx, dgamma, dbeta, dy, nil, x, mean, invstd, gamma)
}

// BatchNorm2DBackwardReLU is BatchNorm2DBackward of dy masked by y > 0
// (the fused ReLU's backward), in the same three dispatches.
func (b *Backend) BatchNorm2DBackwardReLU(dx, dgamma, dbeta, dy, y, x, mean, invstd, gamma net.Tensor) {
	b.bnBackward("BatchNorm2DBackwardReLU", dx, dgamma, dbeta, dy, y, x, mean, invstd, gamma)
}

// bnBackward is BatchNorm2DBackward, of dy masked by y > 0 when y is set.
func (b *Backend) bnBackward(op string, dx, dgamma, dbeta, dy, y, x, mean, invstd, gamma net.Tensor) {
	DX, DG, DB := tensor(op, "dx", dx), tensor(op, "dgamma", dgamma), tensor(op, "dbeta", dbeta)
	DY, X, M, I, G := tensor(op, "dy", dy), tensor(op, "x", x), tensor(op, "mean", mean), tensor(op, "invstd", invstd), tensor(op, "gamma", gamma)
	n, c, hw := bnDims(op, X, []*Tensor{DX, DY}, []string{"dx", "dy"},
		[]*Tensor{DG, DB, M, I, G}, []string{"dgamma", "dbeta", "mean", "invstd", "gamma"})
	// Without a ReLU, yrelu is not read: the first value of dy is bound
	// there, so that the bytes a step binds count only what it reads.
	yr, relu := DY.st.region(), uint32(0)
	yr.size = 4
	if y != nil {
		Y := tensor(op, "y", y)
		mustShape(op, "y", Y.shape, DX.shape...)
		yr, relu = Y.st.region(), 1
	}
	if c == 0 {
		return
	}
	if n*hw == 0 { // sums over no values
		b.zero(op, DG.st)
		b.zero(op, DB.st)
		return
	}
	p := b.bnPlan(n, c, hw)
	p.ReLU = relu
	s, done := b.scratch(op, int(p.CoefOff)+4*c)
	defer done()
	dispatch(b, op, kBNBackwardSums, p.reductionWork(), &p, DY.st.region(), X.st.region(), M.st.region(), s, yr)
	dispatch(b, op, kBNBackwardFinalize, c, &p, s, I.st.region(), G.st.region(), DG.st.region(), DB.st.region())
	dispatch(b, op, kBNBackwardDx, int(p.Total), &p, DY.st.region(), X.st.region(), M.st.region(), s, DX.st.region(), yr)
}
