package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// RecordError is a bad record: where it is, which field, and why. A [Reader]
// returns it for one record and goes on with the next; a [Writer] returns
// it for a record the output format cannot hold.
type RecordError struct {
	Pos    Position // the record
	Line   int      // the line of the field (Pos.Line when not known)
	Field  string   // the key path as written in the file, "" for the whole record
	Reason string
}

func (e *RecordError) Error() string {
	var b bytes.Buffer
	if e.Pos.File != "" {
		fmt.Fprintf(&b, "%s:%d: ", e.Pos.File, e.Line)
	}
	fmt.Fprintf(&b, "record %d: ", e.Pos.Index)
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// ReaderOptions says how to read a file. The zero value detects the format
// from the first record.
type ReaderOptions struct {
	// Format of the records; "" detects it from the first record's keys.
	Format Format
	// Schema names the record's keys, as a dataset_info.json entry does; nil
	// uses the format's usual names. A Schema without Format decides it.
	Schema *Schema
}

// Reader streams Examples from a JSON array or JSONL file, gzip-compressed
// or not, one record in memory at a time.
type Reader struct {
	name    string
	opt     ReaderOptions
	sc      *recordScanner
	count   *countingReader
	closer  io.Closer
	format  Format
	dec     decoder
	pending []rawRecord // records read while detecting the format
	err     error       // a fatal error, returned from then on
}

type rawRecord struct {
	b     []byte
	line  int
	index int
}

// Open reads the file at path; "-" is standard input.
func Open(path string, opt ReaderOptions) (*Reader, error) {
	if path == "-" {
		r, err := NewReader(os.Stdin, "-", opt)
		return r, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, path, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads records from r; name is used in error positions. It
// detects gzip and a UTF-8 byte order mark, and whether the records are a
// JSON array or JSON lines.
func NewReader(r io.Reader, name string, opt ReaderOptions) (*Reader, error) {
	rd := &Reader{name: name, opt: opt, count: &countingReader{r: r}}
	br := bufio.NewReaderSize(rd.count, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	sc, err := newRecordScanner(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	rd.sc = sc
	if err := rd.chooseDecoder(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rd, nil
}

// chooseDecoder settles the format: given, from the schema, or detected
// from the first record that is a JSON object.
func (r *Reader) chooseDecoder() error {
	f, opt := r.opt.Format, r.opt
	switch {
	case f != "" && opt.Schema != nil:
		r.format, r.dec = f, newDecoder(f, *opt.Schema)
		return nil
	case opt.Schema != nil:
		f = formatOfSchema(*opt.Schema)
		r.format, r.dec = f, newDecoder(f, *opt.Schema)
		return nil
	case f != "":
		r.format, r.dec = f, newDecoder(f, defaultSchema(f))
		return nil
	}
	for {
		b, line, err := r.sc.next()
		if err == io.EOF {
			r.format, r.dec = FormatAlpaca, newDecoder(FormatAlpaca, defaultSchema(FormatAlpaca))
			return nil
		}
		if err != nil {
			return err
		}
		rec := rawRecord{b: append([]byte(nil), b...), line: line, index: r.sc.index - 1}
		r.pending = append(r.pending, rec)
		if !json.Valid(rec.b) {
			continue
		}
		obj, err := parseObject(rec.b)
		if err != nil {
			continue
		}
		f, s, err := detectFormat(obj)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		r.format, r.dec = f, newDecoder(f, s)
		return nil
	}
}

// Format is the format of the records, given or detected.
func (r *Reader) Format() Format { return r.format }

// Name is the name errors use for the file.
func (r *Reader) Name() string { return r.name }

// BytesRead is how many bytes of the file (compressed, if it is) were read
// so far: progress against the file's size.
func (r *Reader) BytesRead() int64 { return r.count.n }

// Next returns the next example, or io.EOF after the last. A bad record
// gives a *RecordError, and the next call goes on with the record after it;
// any other error ends the stream.
func (r *Reader) Next() (Example, error) {
	if r.err != nil {
		return Example{}, r.err
	}
	var rec rawRecord
	if len(r.pending) > 0 {
		rec, r.pending = r.pending[0], r.pending[1:]
	} else {
		b, line, err := r.sc.next()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("%s: %w", r.name, err)
			}
			r.err = err
			return Example{}, err
		}
		rec = rawRecord{b: b, line: line, index: r.sc.index - 1}
	}
	return r.decode(rec)
}

func (r *Reader) decode(rec rawRecord) (Example, error) {
	pos := Position{File: r.name, Line: rec.line, Index: rec.index}
	if !json.Valid(rec.b) {
		return Example{}, r.syntaxError(pos, rec)
	}
	obj, err := parseObject(rec.b)
	if err != nil {
		return Example{}, &RecordError{Pos: pos, Line: pos.Line, Reason: err.Error()}
	}
	ex, derr := r.dec.decode(obj)
	if derr != nil {
		return Example{}, r.recordError(pos, rec.b, derr)
	}
	ex.Pos = pos
	return ex, nil
}

// recordError places a decode error on the line of the bytes it is about.
func (r *Reader) recordError(pos Position, rec []byte, e *decodeError) *RecordError {
	line := pos.Line
	if e.at != nil {
		if off := cap(rec) - cap(e.at); off >= 0 && off <= len(rec) {
			line += bytes.Count(rec[:off], []byte{'\n'})
		}
	}
	return &RecordError{Pos: pos, Line: line, Field: e.field, Reason: e.reason}
}

// syntaxError reports where a record stops being JSON.
func (r *Reader) syntaxError(pos Position, rec rawRecord) *RecordError {
	var v any
	err := json.Unmarshal(rec.b, &v)
	var se *json.SyntaxError
	line := pos.Line
	reason := "not valid JSON"
	if errors.As(err, &se) {
		off := min(int(se.Offset), len(rec.b))
		line += bytes.Count(rec.b[:off], []byte{'\n'})
		reason = fmt.Sprintf("not valid JSON: %v (byte %d of the record)", se, off)
	} else if err != nil {
		reason = "not valid JSON: " + err.Error()
	}
	return &RecordError{Pos: pos, Line: line, Reason: reason}
}

// Close closes the file Open opened.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ReadAll reads every example of a file. A bad record is an error; use a
// Reader to go past bad records.
func ReadAll(path string, opt ReaderOptions) ([]Example, Format, error) {
	r, err := Open(path, opt)
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	var out []Example
	for {
		ex, err := r.Next()
		if err == io.EOF {
			return out, r.Format(), nil
		}
		if err != nil {
			return out, r.Format(), err
		}
		out = append(out, ex)
	}
}
