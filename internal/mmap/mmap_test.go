package mmap

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, content := range []string{"", "x", "hello, mapped world"} {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(f.Data) != content {
			t.Errorf("mapped %q, want %q", f.Data, content)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

func TestHugeAndRelease(t *testing.T) {
	f, err := Huge(5 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Data) != 5<<20 {
		t.Fatalf("%d bytes, want %d", len(f.Data), 5<<20)
	}
	for i := range f.Data {
		if f.Data[i] != 0 {
			t.Fatalf("byte %d = %d, want zeroed memory", i, f.Data[i])
		}
	}
	for i := range f.Data {
		f.Data[i] = byte(i)
	}
	if i := 3<<20 + 7; f.Data[i] != byte(i) {
		t.Error("huge memory does not keep what was written")
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}

	// released pages of a file mapping read back the same bytes
	p := filepath.Join(t.TempDir(), "f")
	content := make([]byte, 3<<16+123)
	for i := range content {
		content[i] = byte(i * 7)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	Release(m.Data[100:])
	Release(m.Data[:0])
	if !bytes.Equal(m.Data, content) {
		t.Error("released mapping reads back different bytes")
	}
}

func TestReleaseLeavesOtherMemoryAlone(t *testing.T) {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = 1
	}
	Release(b)
	for i, v := range b {
		if v != 1 {
			t.Fatalf("byte %d of heap memory became %d after Release", i, v)
		}
	}
}

func TestAvailable(t *testing.T) {
	a := Available()
	if _, err := os.Stat("/proc/meminfo"); err != nil || runtime.GOOS != "linux" {
		if a != -1 {
			t.Errorf("available memory %d bytes where it cannot be read, want -1", a)
		}
		return
	}
	if a <= 0 {
		t.Errorf("available memory %d bytes, want the kernel's MemAvailable", a)
	}
}
