package mmap

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
