package llama

import (
	"unsafe"

	"flywheel/internal/mmap"
	"flywheel/internal/tensor"
)

// Decoding one token streams every projection and the output head through
// the CPU once. Mapped from the file they sit in 4 KiB pages, one TLB miss
// per page; copied into memory backed by 2 MiB transparent huge pages the
// same stream decodes 6–15% faster on a bandwidth-bound F32 model
// (bench/llamacpp.sh; an anonymous copy without huge pages is no faster
// than the mapping).

// CopyToHugePages moves the weights decoding streams — every layer's
// projections and the output head — out of the file mapping into one
// anonymous region backed by transparent huge pages, releasing the mapped
// pages as it copies (releaseChunk at a time) so the resident size stays
// that of the file. It does nothing where the kernel offers no huge pages
// or where the copy would not leave hugeHeadroom of memory available. Call
// it before the model is used; Close frees the region.
func (m *Model) CopyToHugePages() error {
	if !mmap.HugePages() {
		return nil
	}
	ws := m.streamed()
	const align = 64 // a cache line, for the kernels' loads
	size := 0
	for _, w := range ws {
		size += (len(w.Data) + align - 1) &^ (align - 1)
	}
	if avail := mmap.Available(); avail >= 0 && int64(size) > avail-hugeHeadroom {
		// anonymous memory cannot be dropped under pressure as mapped file
		// pages can: weights that do not fit stay mapped
		return nil
	}
	arena, err := mmap.Huge(size)
	if err != nil {
		return err
	}
	moved := map[*byte][]byte{} // a tied output head moves with the embedding
	off := 0
	for _, w := range ws {
		if len(w.Data) == 0 {
			continue
		}
		if d, ok := moved[&w.Data[0]]; ok && len(d) == len(w.Data) { // shared
			w.Data = d
			continue
		}
		d := arena.Data[off : off+len(w.Data) : off+len(w.Data)]
		for lo := 0; lo < len(d); lo += releaseChunk {
			hi := min(lo+releaseChunk, len(d))
			copy(d[lo:hi], w.Data[lo:hi])
			mmap.Release(w.Data[lo:hi]) // the copy and the mapping are not both resident
		}
		moved[&w.Data[0]] = d
		w.Data = d
		off += (len(d) + align - 1) &^ (align - 1)
	}
	m.closers = append(m.closers, arena)
	if d, ok := moved[unsafe.SliceData(m.Embed.Data)]; ok && len(d) == len(m.Embed.Data) {
		m.Embed.Data = d // tied to the output head
	}
	return nil
}

// hugeHeadroom is the memory left available after the copy; with less the
// weights stay in the file mapping.
const hugeHeadroom = 512 << 20

// releaseChunk is how much of a tensor is copied before its mapped pages
// are released.
const releaseChunk = 4 << 20

// streamed lists the matrices every decoded token reads whole.
func (m *Model) streamed() []*tensor.Matrix {
	ws := make([]*tensor.Matrix, 0, 7*len(m.Layers)+1)
	for i := range m.Layers {
		L := &m.Layers[i]
		ws = append(ws, &L.Wq, &L.Wk, &L.Wv, &L.Wo, &L.WGate, &L.WUp, &L.WDown)
	}
	return append(ws, &m.Output)
}
