package gpu

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/gogpu/wgpu"

	"cifarlab/net"
)

// Upload copies src into dst. Ops recorded before it are submitted first,
// so the write lands after them and before the ops recorded after it.
func (b *Backend) Upload(dst net.Tensor, src []float32) {
	d := tensor("Upload", "dst", dst)
	if len(src) != d.shape.Len() {
		panicf("Upload: %d values for tensor %v", len(src), d.shape)
	}
	b.write("Upload", d.st, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(src))), 4*len(src)))
}

// UploadInt copies src into dst.
func (b *Backend) UploadInt(dst net.IntTensor, src []int32) {
	d := intTensor("UploadInt", "dst", dst)
	if len(src) != d.shape.Len() {
		panicf("UploadInt: %d values for tensor %v", len(src), d.shape)
	}
	b.write("UploadInt", d.st, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(src))), 4*len(src)))
}

// write copies data to the start of st's buffer with the queue, after
// submitting the ops recorded so far.
func (b *Backend) write(op string, st *storage, data []byte) {
	if len(data) == 0 || st.buf == nil || b.failed() {
		return
	}
	if len(b.rec.ops) > 0 {
		if b.flush() != nil {
			return
		}
	}
	if err := b.queue.WriteBuffer(st.buf.buf, st.off, data); err != nil {
		b.fail(op, fmt.Errorf("write %d bytes: %w", len(data), err))
	}
}

// Download copies src into dst, submitting the ops recorded so far and
// waiting for them.
func (b *Backend) Download(dst []float32, src net.Tensor) error {
	s := tensor("Download", "src", src)
	if len(dst) != s.shape.Len() {
		panicf("Download: %d values for tensor %v", len(dst), s.shape)
	}
	return b.download("Download", unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 4*len(dst)), s.st)
}

// DownloadInt copies src into dst.
func (b *Backend) DownloadInt(dst []int32, src net.IntTensor) error {
	s := intTensor("DownloadInt", "src", src)
	if len(dst) != s.shape.Len() {
		panicf("DownloadInt: %d values for tensor %v", len(dst), s.shape)
	}
	return b.download("DownloadInt", unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 4*len(dst)), s.st)
}

func (b *Backend) download(op string, dst []byte, st *storage) error {
	if b.closed {
		return fmt.Errorf("gpu: %s: %w", op, errClosed)
	}
	if len(dst) == 0 {
		return b.flush()
	}
	pr := b.readBack(op, st)
	if err := b.flush(); err != nil {
		if pr != nil {
			pr.release(b)
		}
		return err
	}
	return pr.wait(b, dst)
}

// ReadLater records a copy of src into a staging buffer, in stream order,
// and returns a function that waits for it: the copy is submitted with the
// next Submit (or by the function itself when none came), and its mapping
// starts right after that submit, so the host waits only for the work
// before the copy, never for the queue to drain.
func (b *Backend) ReadLater(src net.Tensor) func() ([]float32, error) {
	const op = "ReadLater"
	s := tensor(op, "src", src)
	n := s.shape.Len()
	if b.closed {
		return func() ([]float32, error) { return nil, fmt.Errorf("gpu: %s: %w", op, errClosed) }
	}
	if n == 0 {
		return func() ([]float32, error) { return []float32{}, b.failure() }
	}
	pr := b.readBack(op, s.st)
	if len(b.rec.ops) == 1 {
		// Nothing else is recorded (the trainer reads a step's statistics
		// right after its Submit): send the copy now, so that the values
		// are ready when the work before them is, not after the next step.
		_ = b.flush() // a failure is recorded and returned by the function
	}
	done := false
	return func() ([]float32, error) {
		if done {
			return nil, fmt.Errorf("gpu: %s: the values were already read", op)
		}
		done = true
		if !pr.isSubmitted {
			if err := b.flush(); err != nil {
				pr.release(b)
				return nil, err
			}
		}
		out := make([]float32, n)
		if err := pr.wait(b, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), 4*n)); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// pendingRead is a copy of a tensor into a staging buffer.
type pendingRead struct {
	op          string
	staging     *buffer // nil after a failure (the backend's error tells why)
	bytes       uint64
	isSubmitted bool
	pending     *wgpu.MapPending
	mapErr      error
}

// readBack records a copy of st into a staging buffer.
func (b *Backend) readBack(op string, st *storage) *pendingRead {
	pr := &pendingRead{op: op, bytes: st.bytes}
	if b.failed() || st.buf == nil {
		return pr
	}
	pr.staging = b.stagings.get(b, op, st.bytes)
	if pr.staging == nil {
		return pr
	}
	b.endPass(op)
	enc := b.encoder(op)
	if enc == nil {
		b.stagings.put(pr.staging)
		pr.staging = nil
		return pr
	}
	enc.CopyBufferToBuffer(st.buf.buf, st.off, pr.staging.buf, 0, st.bytes)
	b.counts.BytesRead += int64(st.bytes)
	b.rec.ops = append(b.rec.ops, op)
	b.rec.reads = append(b.rec.reads, pr)
	return pr
}

// submitted starts mapping the staging buffer once its copy is submitted.
func (pr *pendingRead) submitted(b *Backend) {
	pr.isSubmitted = true
	if pr.staging == nil {
		return
	}
	pr.pending, pr.mapErr = pr.staging.buf.MapAsync(wgpu.MapModeRead, 0, pr.bytes)
}

// cancel drops a read whose copy was never submitted.
func (pr *pendingRead) cancel(b *Backend) {
	pr.isSubmitted = true
	pr.release(b)
}

// release returns the staging buffer to its pool.
func (pr *pendingRead) release(b *Backend) {
	if pr.pending != nil {
		pr.pending.Release()
		pr.pending = nil
	}
	if pr.staging != nil {
		if pr.staging.buf.MapState() != wgpu.MapStateUnmapped {
			_ = pr.staging.buf.Unmap()
		}
		if !b.closed {
			b.stagings.put(pr.staging)
		}
		pr.staging = nil
	}
}

// wait waits for the mapping, with the backend's timeout, and copies the
// values into dst. A read that never completes is an error naming a lost
// or hung device, never zeros.
func (pr *pendingRead) wait(b *Backend, dst []byte) error {
	defer pr.release(b)
	if err := b.failure(); err != nil {
		return err
	}
	if b.closed {
		return fmt.Errorf("gpu: %s: %w", pr.op, errClosed)
	}
	if pr.staging == nil || !pr.isSubmitted {
		return fmt.Errorf("gpu: %s: the copy was never submitted", pr.op)
	}
	if pr.mapErr != nil {
		b.fail(pr.op, fmt.Errorf("map the staging buffer: %w", mapError(pr.mapErr)))
		b.awaitLost(2 * time.Second) // a rejected mapAsync comes before device.lost
		return b.failure()
	}
	// gogpu/wgpu (v0.34) resolves a mapping only when the device is polled
	// and offers no wait on one submission (WaitIdle would also wait for
	// the steps submitted after the copy, which the trainer keeps the
	// device busy with), so the host polls: at most maxPollSleep apart, so
	// that it learns of the copy's end within about that much.
	start := time.Now()
	deadline := start.Add(b.opts.Timeout)
	sleep := 10 * time.Microsecond
	report := start.Add(b.opts.WaitReport)
	if b.opts.Waiting != nil {
		defer func() {
			if time.Now().After(start.Add(b.opts.WaitReport)) {
				b.opts.Waiting(0)
			}
		}()
	}
	for {
		ready, err := pr.pending.Status()
		if ready {
			if err != nil {
				b.fail(pr.op, fmt.Errorf("map the staging buffer: %w", mapError(err)))
				b.awaitLost(2 * time.Second) // a rejected mapAsync comes before device.lost
				return b.failure()
			}
			break
		}
		if err := b.failure(); err != nil { // a device error reported meanwhile
			return err
		}
		now := time.Now()
		if now.After(deadline) {
			b.fail(pr.op, fmt.Errorf("read back of %d bytes did not finish within %v: %w", pr.bytes, b.opts.Timeout, errDeviceLost))
			return b.failure()
		}
		if now.After(report) && b.opts.Waiting != nil {
			b.opts.Waiting(now.Sub(start))
			report = report.Add(b.opts.WaitReport)
		}
		b.device.Poll(wgpu.PollPoll)
		time.Sleep(sleep)
		sleep = min(2*sleep, maxPollSleep)
	}
	rng, err := pr.staging.buf.MappedRange(0, pr.bytes)
	if err != nil {
		b.fail(pr.op, fmt.Errorf("mapped range of the staging buffer: %w", err))
		return b.failure()
	}
	data := rng.Bytes()
	if uint64(len(data)) < pr.bytes {
		rng.Release()
		b.fail(pr.op, fmt.Errorf("mapped range holds %d bytes, want %d", len(data), pr.bytes))
		return b.failure()
	}
	copy(dst, data)
	rng.Release()
	if err := pr.staging.buf.Unmap(); err != nil {
		b.fail(pr.op, fmt.Errorf("unmap the staging buffer: %w", err))
	}
	return b.failure()
}

// maxPollSleep is the longest pause between two polls of a read-back.
const maxPollSleep = 100 * time.Microsecond

// mapError marks a mapping that failed because the device was lost.
func mapError(err error) error {
	if errors.Is(err, wgpu.ErrMapDeviceLost) {
		return fmt.Errorf("%w: %w", errDeviceLost, err)
	}
	return err
}

// records is a dataset of CIFAR-style records on the device, split into
// buffers of whole records that each fit one storage binding.
type records struct {
	n      int
	img    net.Shape
	recLen int
	chunks []recordChunk
	freed  bool
}

// recordChunk is the records first … first+count−1 in one buffer.
type recordChunk struct {
	buf          *buffer
	first, count int
	bytes        uint64 // bound bytes: count·recLen rounded up to 4
}

func (r *records) Len() int         { return r.n }
func (r *records) Image() net.Shape { return r.img }

// UploadRecords copies a dataset of records (a label byte, then C×H×W
// pixel bytes each) into buffers of at most the device's storage binding
// size (or Options.MaxRecordsBinding), in whole records.
func (b *Backend) UploadRecords(data []byte, img net.Shape) (net.Records, error) {
	const op = "UploadRecords"
	if len(img) != 3 || img.Len() <= 0 {
		return nil, fmt.Errorf("gpu: upload records: image shape %v, want [C,H,W]", img)
	}
	rec := 1 + img.Len()
	if len(data)%rec != 0 {
		return nil, fmt.Errorf("gpu: upload records: %d bytes is not a whole number of %d-byte records", len(data), rec)
	}
	if err := b.failure(); err != nil {
		return nil, err
	}
	limit := min(b.limits.MaxStorageBufferBindingSize, b.limits.MaxBufferSize)
	if b.opts.MaxRecordsBinding > 0 {
		limit = min(limit, b.opts.MaxRecordsBinding)
	}
	per := int(limit &^ 3 / uint64(rec))
	if per < 1 {
		return nil, fmt.Errorf("gpu: upload records: one %d-byte record exceeds the %d-byte binding limit", rec, limit)
	}
	r := &records{n: len(data) / rec, img: checkShape(img), recLen: rec}
	if len(b.rec.ops) > 0 {
		if err := b.flush(); err != nil {
			return nil, err
		}
	}
	for first := 0; first < r.n; first += per {
		count := min(per, r.n-first)
		part := data[first*rec : (first+count)*rec]
		size := (uint64(len(part)) + 3) &^ 3
		buf := b.newBuffer(op, "records", size, usageTensor)
		if buf == nil {
			b.Free(r)
			return nil, b.failure()
		}
		r.chunks = append(r.chunks, recordChunk{buf: buf, first: first, count: count, bytes: size})
		whole := part[:len(part)&^3]
		if err := b.queue.WriteBuffer(buf.buf, 0, whole); err != nil {
			b.Free(r)
			b.fail(op, fmt.Errorf("write %d bytes: %w", len(whole), err))
			return nil, b.failure()
		}
		if tail := part[len(whole):]; len(tail) > 0 {
			var last [4]byte
			copy(last[:], tail)
			if err := b.queue.WriteBuffer(buf.buf, uint64(len(whole)), last[:]); err != nil {
				b.Free(r)
				b.fail(op, fmt.Errorf("write the last bytes: %w", err))
				return nil, b.failure()
			}
		}
	}
	return r, nil
}
