package net

import "fmt"

// InputGradTop is the saliency's raw material: for each image of x
// [N, 3, H, W], the gradient of its top class score (the logit of the class
// the network ranks first) with respect to x, in eval mode (BatchNorm with
// its running statistics), as PyTorch's x.grad after
// model.eval(); model(x).gather(1, top).sum().backward(). It writes no
// parameter gradient. grad is [N, 3, H, W] row-major; top the classes.
func InputGradTop(b Backend, n *Network, x Tensor) (grad []float32, top []int, err error) {
	s := x.Shape()
	if len(s) != 4 {
		return nil, nil, fmt.Errorf("saliency of %v: want [N, C, H, W]", s)
	}
	logits := n.Forward(x, false)
	k := n.Classes
	host := make([]float32, s[0]*k)
	if err := b.Download(host, logits); err != nil {
		return nil, nil, fmt.Errorf("read back logits: %w", err)
	}
	onehot := make([]float32, len(host))
	top = make([]int, s[0])
	for i := range top {
		top[i] = argmax(host[i*k : (i+1)*k])
		onehot[i*k+top[i]] = 1
	}
	d := b.NewTensor(Shape{s[0], k})
	defer b.Free(d)
	b.Upload(d, onehot)
	dx := n.InputGrad(d)
	grad = make([]float32, s.Len())
	if err := b.Download(grad, dx); err != nil {
		return nil, nil, fmt.Errorf("read back the input gradient: %w", err)
	}
	return grad, top, nil
}

// Saliency is |InputGradTop| with the maximum over the colour channels:
// [N, H, W], how much each pixel sways the network's top class.
func Saliency(grad []float32, s Shape) []float32 {
	n, c, hw := s[0], s[1], s[2]*s[3]
	out := make([]float32, n*hw)
	for i := range n {
		for ch := range c {
			for p := range hw {
				v := grad[(i*c+ch)*hw+p]
				if v < 0 {
					v = -v
				}
				if o := &out[i*hw+p]; v > *o {
					*o = v
				}
			}
		}
	}
	return out
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
