//go:build linux

package mmap

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on the platforms Go
// supports for Linux (x86-64 and arm64 with 4 KiB base pages).
const hugePage = 2 << 20

// HugePages reports whether the kernel backs memory advised with
// MADV_HUGEPAGE by transparent huge pages: its setting is "always" or
// "madvise", not "never".
func HugePages() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !bytes.Contains(b, []byte("[never]"))
}

// Available is the memory the kernel estimates can be allocated without
// swapping (MemAvailable in /proc/meminfo), or -1 when unknown.
func Available() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("MemAvailable:")); ok {
			f := bytes.Fields(v)
			if len(f) == 0 {
				return -1
			}
			kib, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				return -1
			}
			return kib << 10
		}
	}
	return -1
}

// Huge returns n zeroed bytes of anonymous memory starting on a huge-page
// boundary, advised to be backed by transparent huge pages: one TLB entry
// then covers 2 MiB instead of 4 KiB, which matters to a kernel streaming
// hundreds of megabytes per token. Close releases it.
func Huge(n int) (*File, error) {
	if n <= 0 {
		return &File{}, nil
	}
	mem, err := unix.Mmap(-1, 0, n+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("mmap %d anonymous bytes: %w", n, err)
	}
	off := (hugePage - int(uintptr(unsafe.Pointer(&mem[0]))%hugePage)) % hugePage
	data := mem[off : off+n : off+n]
	if err := unix.Madvise(data, unix.MADV_HUGEPAGE); err != nil {
		unix.Munmap(mem)
		return nil, fmt.Errorf("madvise huge pages: %w", err)
	}
	return &File{Data: data, unmap: func() error { return unix.Munmap(mem) }}, nil
}

// Release tells the kernel the pages lying wholly inside b, a part of a
// file mapped by Open, are not needed for now: they leave the process's
// resident set and are read back from the page cache if touched again.
// Memory not mapped from a file is left alone (releasing it would zero it).
func Release(b []byte) {
	if len(b) == 0 || !fileMapped(b) {
		return
	}
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(&b[0]))
	lo := (start + page - 1) &^ (page - 1)
	hi := (start + uintptr(len(b))) &^ (page - 1)
	if hi <= lo {
		return
	}
	unix.Madvise(b[lo-start:hi-start], unix.MADV_DONTNEED)
}
