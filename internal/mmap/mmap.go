package mmap

import (
	"sync"
	"unsafe"
)

// File is a read-only view of a whole file.
type File struct {
	Data  []byte
	unmap func() error
}

// Close releases the mapping; Data must not be used afterwards.
func (f *File) Close() error {
	if f == nil || f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap, f.Data = nil, nil
	return err
}

// The address ranges of the files mapped by Open, so Release can tell
// mapped file pages from other memory.
var (
	mappedMu sync.Mutex
	mapped   = map[uintptr]uintptr{} // start → end
)

// remember records data as a file mapping until the returned func is called.
func remember(data []byte) (forget func()) {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	mappedMu.Lock()
	mapped[start] = start + uintptr(len(data))
	mappedMu.Unlock()
	return func() {
		mappedMu.Lock()
		delete(mapped, start)
		mappedMu.Unlock()
	}
}

// fileMapped reports whether b lies inside one file mapping.
func fileMapped(b []byte) bool {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	hi := lo + uintptr(len(b))
	mappedMu.Lock()
	defer mappedMu.Unlock()
	for start, end := range mapped {
		if lo >= start && hi <= end {
			return true
		}
	}
	return false
}
