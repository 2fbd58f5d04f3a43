package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"flywheel/internal/dataset"
	"flywheel/internal/llama"
)

// dataCommands are the subcommands of `flywheel data`.
var dataCommands = []command{
	{"validate", "report every bad record (file:line, field, reason); exit 1 if any", runDataValidate},
	{"convert", "convert between alpaca, sharegpt, messages, dpo and kto", runDataConvert},
	{"clean", "NFC, control characters, whitespace, HTML to text, PII redaction", runDataClean},
	{"dedup", "drop exact and near duplicates (MinHash LSH) within and across files", runDataDedup},
	{"filter", "drop by token length, language, short or repetitive answers", runDataFilter},
	{"stats", "counts, token lengths, turns, languages, duplicate rate", runDataStats},
	{"split", "seeded train/val/test split with no near-duplicate across parts", runDataSplit},
	{"mix", "weighted mix of several data sets", runDataMix},
}

func runData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		dataUsage(stderr)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range dataCommands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	dataUsage(stderr)
	return fmt.Errorf("data: unknown command %q", args[0])
}

func dataUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("flywheel data: instruction-tuning data sets.\n\nUsage: flywheel data COMMAND [flags] FILE...\n\nCommands:\n")
	for _, c := range dataCommands {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Files are JSON arrays or JSON lines, optionally gzip-compressed; "-" is
standard input. The format (alpaca, sharegpt, messages, dpo, kto) is detected
from the first record, or read from a LLaMA-Factory dataset_info.json next to
the file (or named with --dataset-info); a dataset_info.json given as FILE
stands for all its datasets. Commands write records with -o OUT ("-" is
standard output, the default), JSON lines unless OUT ends in .json; reports go
to standard output, or to standard error when records do. A bad record stops
a command unless --skip-invalid, which reports it and goes on.

Run "flywheel data COMMAND -h" for a command's flags.
`)
	io.WriteString(w, b.String())
}

// dataFlags are the flags shared by the data commands.
type dataFlags struct {
	format      string
	datasetInfo string
	skipInvalid bool
	asJSON      bool
	out         string
	to          string
	register    string
	stdout      io.Writer // where -o - writes
	stderr      io.Writer // notes about the inputs
}

func (d *dataFlags) addInput(fs *flag.FlagSet) {
	fs.StringVar(&d.format, "format", "", "input `format`: alpaca, sharegpt, messages, dpo or kto (default: detected)")
	fs.StringVar(&d.datasetInfo, "dataset-info", "", "read column and tag names from this LLaMA-Factory dataset_info.json `file` (default: the one next to each input, if it lists it)")
	fs.BoolVar(&d.skipInvalid, "skip-invalid", false, "report bad records and go on without them")
	fs.BoolVar(&d.asJSON, "json", false, "print the report as JSON")
}

func (d *dataFlags) addOutput(fs *flag.FlagSet) {
	fs.StringVar(&d.out, "o", "-", "write records to `OUT` (.json: a JSON array; .jsonl, - or any other name: JSON lines; .gz: compressed)")
	fs.StringVar(&d.to, "to", "", "output `format` (default: the first input's)")
	fs.StringVar(&d.register, "register", "", "add OUT as dataset `NAME` to the dataset_info.json next to it")
}

// parseData parses flags and file arguments in any order.
func parseData(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return files, nil
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// reportWriter is where the report goes: standard error when records go to
// standard output.
func (d *dataFlags) reportWriter(stdout, stderr io.Writer) io.Writer {
	if d.out == "-" {
		return stderr
	}
	return stdout
}

// dataInput is one file to read, with how to read it.
type dataInput struct {
	path string
	opt  dataset.ReaderOptions
	size int64
}

// resolveInputs expands dataset_info.json arguments and finds each file's
// schema.
func (d *dataFlags) resolveInputs(paths []string) ([]dataInput, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no input: name one or more files, or - for standard input")
	}
	var format dataset.Format
	if d.format != "" {
		f, err := dataset.ParseFormat(d.format)
		if err != nil {
			return nil, err
		}
		format = f
	}
	var given *dataset.DatasetInfo
	if d.datasetInfo != "" {
		info, err := dataset.ReadDatasetInfo(d.datasetInfo)
		if err != nil {
			return nil, err
		}
		given = info
	}
	var out []dataInput
	for _, p := range paths {
		if filepath.Base(p) == "dataset_info.json" {
			ins, err := datasetInfoInputs(p, format, d.stderr)
			if err != nil {
				return nil, err
			}
			out = append(out, ins...)
			continue
		}
		in := dataInput{path: p, opt: dataset.ReaderOptions{Format: format}}
		if p != "-" {
			st, err := os.Stat(p)
			if err != nil {
				return nil, err
			}
			in.size = st.Size()
			in.opt.Schema = schemaFor(p, d.datasetInfo, given)
		}
		out = append(out, in)
	}
	return out, nil
}

// schemaFor finds the dataset_info.json entry of a file: in the given
// dataset_info.json, else in one next to the file.
func schemaFor(path, infoPath string, info *dataset.DatasetInfo) *dataset.Schema {
	if info == nil {
		infoPath = filepath.Join(filepath.Dir(path), "dataset_info.json")
		var err error
		if info, err = dataset.ReadDatasetInfo(infoPath); err != nil {
			return nil
		}
	}
	rel, err := filepath.Rel(filepath.Dir(infoPath), path)
	if err != nil {
		return nil
	}
	if e, ok := info.LookupFile(rel); ok {
		s := e.Schema
		return &s
	}
	return nil
}

// datasetInfoInputs lists the local files of a dataset_info.json (a
// file_name that is a folder stands for the data files in it); hub datasets
// are skipped with a note.
func datasetInfoInputs(infoPath string, format dataset.Format, stderr io.Writer) ([]dataInput, error) {
	info, err := dataset.ReadDatasetInfo(infoPath)
	if err != nil {
		return nil, err
	}
	var out []dataInput
	for i := range info.Entries {
		e := &info.Entries[i]
		p, err := e.ResolveFile(infoPath)
		if err != nil {
			if stderr != nil {
				fmt.Fprintf(stderr, "note: %s: skipping dataset %q: not a local file\n", infoPath, e.Name)
			}
			continue
		}
		files, err := dataFiles(p)
		if err != nil {
			return nil, fmt.Errorf("dataset %q of %s: %w", e.Name, infoPath, err)
		}
		for _, f := range files {
			s := e.Schema
			out = append(out, dataInput{path: f.path, opt: dataset.ReaderOptions{Format: format, Schema: &s}, size: f.size})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no local data files", infoPath)
	}
	return out, nil
}

type sizedFile struct {
	path string
	size int64
}

// dataFiles is the file at p, or the .json and .jsonl files (gzipped or
// not) in the folder p, in name order.
func dataFiles(p string) ([]sizedFile, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []sizedFile{{p, st.Size()}}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var out []sizedFile
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".gz")
		if e.IsDir() || !(strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".jsonl")) {
			continue
		}
		if info, err := e.Info(); err == nil {
			out = append(out, sizedFile{filepath.Join(p, e.Name()), info.Size()})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("folder %s holds no .json or .jsonl files", p)
	}
	return out, nil
}

// recordStream reads the examples of several files in turn, reporting bad
// records and showing progress.
type recordStream struct {
	ctx         context.Context
	inputs      []dataInput
	skipInvalid bool
	quiet       bool // collect bad records without printing them
	stderr      io.Writer
	prog        *progress

	cur       *dataset.Reader
	fetch     *prefetch // decodes cur's records ahead on another goroutine
	next      int       // the input to open next
	formats   []dataset.Format
	rows      int64
	doneBytes int64
	total     int64
	invalid   []*dataset.RecordError
	err       error // an error that ended the stream, returned from then on
}

func newRecordStream(ctx context.Context, label string, inputs []dataInput, d *dataFlags, stderr io.Writer) *recordStream {
	s := &recordStream{ctx: ctx, inputs: inputs, skipInvalid: d.skipInvalid, stderr: stderr, prog: newProgress(stderr, label, "rows")}
	for _, in := range inputs {
		s.total += in.size
	}
	return s
}

// Next returns the next good example, or io.EOF. Without --skip-invalid a
// bad record is an error.
func (s *recordStream) Next() (dataset.Example, error) {
	if s.err != nil {
		return dataset.Example{}, s.err
	}
	ex, err := s.nextGood()
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
		s.closeCurrent()
	}
	return ex, err
}

func (s *recordStream) nextGood() (dataset.Example, error) {
	for {
		if s.cur == nil {
			if err := s.openNext(); err != nil {
				return dataset.Example{}, err
			}
		}
		ex, err := s.fetch.next()
		var re *dataset.RecordError
		switch {
		case err == nil:
			if s.rows++; s.rows%1024 == 0 {
				if err := s.ctx.Err(); err != nil {
					return ex, err
				}
				s.prog.Set(s.rows, s.doneBytes+s.fetch.bytes.Load(), s.total)
			}
			return ex, nil
		case err == io.EOF:
			s.doneBytes += s.inputs[s.next-1].size
			s.closeCurrent()
		case errors.As(err, &re):
			if err := s.badRecord(re); err != nil {
				return ex, err
			}
		default:
			return ex, err
		}
	}
}

func (s *recordStream) openNext() error {
	if s.next >= len(s.inputs) {
		s.prog.Done()
		return io.EOF
	}
	in := s.inputs[s.next]
	s.next++
	r, err := dataset.Open(in.path, in.opt)
	if err != nil {
		return err
	}
	s.cur, s.fetch = r, startPrefetch(r)
	s.formats = append(s.formats, r.Format())
	return nil
}

func (s *recordStream) closeCurrent() {
	if s.cur != nil {
		s.fetch.stop()
		s.cur.Close()
		s.cur, s.fetch = nil, nil
	}
}

// prefetch decodes a reader's records on another goroutine, a batch at a
// time, so that reading and decoding overlap the work done on each record.
type prefetch struct {
	batches chan []fetched
	quit    chan struct{}
	batch   []fetched
	bytes   atomic.Int64 // the reader's BytesRead as of the last batch
}

type fetched struct {
	ex  dataset.Example
	err error
}

const prefetchBatch = 256

func startPrefetch(r *dataset.Reader) *prefetch {
	p := &prefetch{batches: make(chan []fetched, 4), quit: make(chan struct{})}
	go p.run(r)
	return p
}

func (p *prefetch) run(r *dataset.Reader) {
	batch := make([]fetched, 0, prefetchBatch)
	for {
		ex, err := r.Next()
		batch = append(batch, fetched{ex, err})
		var re *dataset.RecordError
		last := err != nil && !errors.As(err, &re) // io.EOF or an error that ends the file
		if len(batch) < prefetchBatch && !last {
			continue
		}
		p.bytes.Store(r.BytesRead())
		select {
		case p.batches <- batch:
		case <-p.quit:
			return
		}
		if last {
			return
		}
		batch = make([]fetched, 0, prefetchBatch)
	}
}

func (p *prefetch) next() (dataset.Example, error) {
	if len(p.batch) == 0 {
		p.batch = <-p.batches
	}
	f := p.batch[0]
	p.batch = p.batch[1:]
	return f.ex, f.err
}

// stop ends the goroutine (it may finish the record it is decoding).
func (p *prefetch) stop() { close(p.quit) }

// badRecord reports a bad record; it is an error unless --skip-invalid.
func (s *recordStream) badRecord(re *dataset.RecordError) error {
	s.invalid = append(s.invalid, re)
	if !s.skipInvalid {
		return fmt.Errorf("%w (pass --skip-invalid to go on without bad records)", re)
	}
	if !s.quiet {
		s.prog.Done()
		fmt.Fprintf(s.stderr, "skipped %v\n", re)
	}
	return nil
}

// Format is the format of the first input; it opens it if needed.
func (s *recordStream) Format() (dataset.Format, error) {
	if len(s.formats) == 0 {
		if err := s.openNext(); err != nil && err != io.EOF {
			return "", err
		}
	}
	if len(s.formats) == 0 {
		return dataset.FormatAlpaca, nil
	}
	return s.formats[0], nil
}

// Close closes the file being read.
func (s *recordStream) Close() {
	s.prog.Done()
	s.closeCurrent()
}

// output writes records to -o, in --to or the input's format.
type output struct {
	d       *dataFlags
	w       *dataset.Writer
	path    string
	skipped []*dataset.RecordError
	stderr  io.Writer
}

// openOutput creates the output file at path (atomically: it appears on Close).
func (d *dataFlags) openOutput(path string, input dataset.Format, stderr io.Writer) (*output, error) {
	f := input
	var err error
	if d.to != "" {
		if f, err = dataset.ParseFormat(d.to); err != nil {
			return nil, err
		}
	}
	if path == "-" && d.register != "" {
		return nil, fmt.Errorf("--register needs -o FILE: a dataset_info.json entry names a file")
	}
	opt := dataset.OptionsForPath(path, f)
	var w *dataset.Writer
	if path == "-" && d.stdout != nil {
		w = dataset.NewWriter(d.stdout, opt)
	} else if w, err = dataset.Create(path, opt); err != nil {
		return nil, err
	}
	return &output{d: d, w: w, path: path, stderr: stderr}, nil
}

// Write writes one example; one the format cannot hold is an error unless
// --skip-invalid.
func (o *output) Write(ex *dataset.Example) error {
	err := o.w.Write(ex)
	var re *dataset.RecordError
	if !errors.As(err, &re) {
		return err
	}
	if !o.d.skipInvalid {
		return fmt.Errorf("%w (writing %s: choose the output format with --to, or pass --skip-invalid)", re, o.w.Format())
	}
	o.skipped = append(o.skipped, re)
	fmt.Fprintf(o.stderr, "not written %v\n", re)
	return nil
}

// Close finishes the file and registers it in dataset_info.json.
func (o *output) Close() error {
	if err := o.w.Close(); err != nil {
		return err
	}
	if o.d.register == "" {
		return nil
	}
	return registerDataset(o.path, o.d.register, o.w.Format(), o.w.Summary())
}

// Abort removes a half-written file.
func (o *output) Abort() { o.w.Abort() }

// registerDataset adds the file as dataset name to the dataset_info.json next to it.
func registerDataset(path, name string, f dataset.Format, s dataset.WriteSummary) error {
	schema, err := dataset.SchemaFor(f, s)
	if err != nil {
		return fmt.Errorf("--register %s: %w", name, err)
	}
	infoPath := filepath.Join(filepath.Dir(path), "dataset_info.json")
	info, err := dataset.ReadDatasetInfo(infoPath)
	if errors.Is(err, os.ErrNotExist) {
		info, err = &dataset.DatasetInfo{}, nil
	}
	if err != nil {
		return err
	}
	info.Set(dataset.DatasetEntry{Name: name, FileName: filepath.Base(path), Schema: schema})
	return info.WriteFile(infoPath)
}

// invalidJSON is a bad record in a --json report.
type invalidJSON struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Record int    `json:"record"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

func invalidList(errs []*dataset.RecordError) []invalidJSON {
	out := make([]invalidJSON, 0, len(errs))
	for _, e := range errs {
		out = append(out, invalidJSON{File: e.Pos.File, Line: e.Line, Record: e.Pos.Index, Field: e.Field, Reason: e.Reason})
	}
	return out
}

// tightenGC makes the collector run more often in commands that hold large
// pointer-free indexes (dedup signatures and band tables): a collection
// then costs little, and the heap stays near its live size instead of
// growing to twice it. GOGC in the environment wins.
func tightenGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
}

func printCompactJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// tokenCounter loads a tokenizer for counting tokens; "" estimates.
func tokenCounter(path string) (dataset.TokenCounter, string, error) {
	if path == "" {
		return nil, "estimated (no --tokenizer)", nil
	}
	tok, err := llama.LoadTokenizer(path, 0)
	if err != nil {
		return nil, "", fmt.Errorf("--tokenizer %s: %w", path, err)
	}
	return func(s string) int { return len(tok.Encode(s, false, false)) }, fmt.Sprintf("%s (%s, %d tokens)", path, tok.Kind(), tok.VocabSize()), nil
}

// keepFunc decides whether an example is written (and may change it); out
// is where it would go.
type keepFunc func(ex *dataset.Example, out *output) (bool, error)

func keepAll(*dataset.Example, *output) (bool, error) { return true, nil }

// copyRecords streams every good example from in to out through keep; it
// returns the records read and written.
func copyRecords(in *recordStream, out *output, keep keepFunc) (read, written int, err error) {
	for {
		ex, err := in.Next()
		if err == io.EOF {
			return read, written, nil
		}
		if err != nil {
			return read, written, err
		}
		read++
		ok, err := keep(&ex, out)
		if err != nil {
			return read, written, err
		}
		if !ok {
			continue
		}
		if err := out.Write(&ex); err != nil {
			return read, written, err
		}
		written++
	}
}

// streamCommand runs the common shape of clean, dedup, filter and
// convert: read the inputs, pass each example through keep, write the kept.
func streamCommand(ctx context.Context, name string, d *dataFlags, files []string, stderr io.Writer,
	keep keepFunc) (in *recordStream, out *output, read, written int, err error) {
	inputs, err := d.resolveInputs(files)
	if err != nil {
		return nil, nil, 0, 0, fmt.Errorf("data %s: %w", name, err)
	}
	in = newRecordStream(ctx, name, inputs, d, stderr)
	defer in.Close()
	format, err := in.Format()
	if err != nil {
		return in, nil, 0, 0, err
	}
	out, err = d.openOutput(d.out, format, stderr)
	if err != nil {
		return in, nil, 0, 0, err
	}
	read, written, err = copyRecords(in, out, keep)
	if err != nil {
		out.Abort()
		return in, out, read, written, err
	}
	return in, out, read, written, out.Close()
}
