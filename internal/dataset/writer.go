package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// WriterOptions says how to write records.
type WriterOptions struct {
	Format Format
	JSONL  bool // one record per line; false writes a JSON array, indented as LLaMA-Factory's files are
	Gzip   bool
}

// OptionsForPath picks the container from a file name: ".json" writes a
// JSON array, anything else (".jsonl", "-" for standard output) JSON lines,
// and a ".gz" suffix compresses.
func OptionsForPath(path string, f Format) WriterOptions {
	name := strings.ToLower(path)
	gz := strings.HasSuffix(name, ".gz")
	name = strings.TrimSuffix(name, ".gz")
	return WriterOptions{Format: f, JSONL: !strings.HasSuffix(name, ".json"), Gzip: gz}
}

// Writer streams Examples to a file in one format.
type Writer struct {
	opt     WriterOptions
	bw      *bufio.Writer
	zw      *gzip.Writer
	tmp     *os.File // the temporary file Create writes before renaming it into place
	path    string
	n       int
	rec     jsonObject
	ibuf    bytes.Buffer
	summary WriteSummary
	closed  bool
}

// WriteSummary is what a Writer wrote, for describing the file in a
// dataset_info.json entry.
type WriteSummary struct {
	Records       int
	Kinds         [3]int // by Kind
	System        bool   // some record has a system prompt
	History       bool   // some record has earlier turns
	Tools         bool
	FunctionCalls bool // function_call or observation turns
	Conversations bool // TRL's list form of prompts (dpo and kto formats)
}

// NewWriter writes records to w. Close finishes the JSON array or gzip
// stream and flushes, but does not close w.
func NewWriter(w io.Writer, opt WriterOptions) *Writer {
	wr := &Writer{opt: opt}
	out := w
	if opt.Gzip {
		wr.zw = gzip.NewWriter(w)
		out = wr.zw
	}
	wr.bw = bufio.NewWriterSize(out, 1<<16)
	return wr
}

// Create writes to a temporary file next to path and renames it to path on
// Close, so a failed run never leaves half a file; "-" is standard output.
func Create(path string, opt WriterOptions) (*Writer, error) {
	if path == "-" {
		return NewWriter(os.Stdout, opt), nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	w := NewWriter(tmp, opt)
	w.tmp, w.path = tmp, path
	return w, nil
}

// Write appends one example. An example the format cannot hold gives a
// *RecordError and nothing is written.
func (w *Writer) Write(ex *Example) error {
	w.rec.b = w.rec.b[:0]
	if err := encode(&w.rec, w.opt.Format, ex); err != nil {
		return &RecordError{Pos: ex.Pos, Line: ex.Pos.Line, Field: err.Field, Reason: err.Reason}
	}
	if err := w.put(w.rec.b); err != nil {
		return err
	}
	w.note(ex)
	return nil
}

func (w *Writer) put(rec []byte) error {
	if w.opt.JSONL {
		w.bw.Write(rec)
		return w.bw.WriteByte('\n')
	}
	if w.n == 0 {
		w.bw.WriteString("[\n  ")
	} else {
		w.bw.WriteString(",\n  ")
	}
	w.ibuf.Reset()
	if err := json.Indent(&w.ibuf, rec, "  ", "  "); err != nil {
		return err
	}
	_, err := w.bw.Write(w.ibuf.Bytes())
	return err
}

func (w *Writer) note(ex *Example) {
	s := &w.summary
	w.n++
	s.Records++
	k := ex.Kind()
	s.Kinds[k]++
	s.System = s.System || ex.System != ""
	s.Tools = s.Tools || ex.Tools != ""
	prompt := len(ex.Prompt())
	s.History = s.History || prompt > 1
	for _, m := range ex.Messages {
		s.FunctionCalls = s.FunctionCalls || m.Role == RoleFunctionCall || m.Role == RoleObservation
	}
	if w.opt.Format == FormatDPO || w.opt.Format == FormatKTO {
		s.Conversations = s.Conversations || ex.System != "" || prompt > 1 ||
			(k == KindPreference && (ex.Chosen.Role != RoleAssistant || ex.Rejected.Role != RoleAssistant))
	}
}

// Count is the number of records written.
func (w *Writer) Count() int { return w.n }

// Summary says what was written.
func (w *Writer) Summary() WriteSummary { return w.summary }

// Format is the format records are written in.
func (w *Writer) Format() Format { return w.opt.Format }

// Close finishes the file and, for Create, renames it into place.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.finish()
	if w.tmp == nil {
		return err
	}
	if cerr := w.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp.Name(), w.path)
	}
	if err != nil {
		os.Remove(w.tmp.Name())
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return nil
}

func (w *Writer) finish() error {
	if !w.opt.JSONL {
		if w.n == 0 {
			w.bw.WriteString("[]\n")
		} else {
			w.bw.WriteString("\n]\n")
		}
	}
	err := w.bw.Flush()
	if w.zw != nil {
		if zerr := w.zw.Close(); err == nil {
			err = zerr
		}
	}
	return err
}

// Abort drops what was written: a file from Create is removed.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	if w.tmp != nil {
		w.tmp.Close()
		os.Remove(w.tmp.Name())
	}
}
