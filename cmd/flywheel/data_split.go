package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"flywheel/internal/dataset"
)

func runDataSplit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("data split", stderr)
	d := dataFlags{stdout: stdout, stderr: stderr}
	d.addInput(fs)
	fs.StringVar(&d.out, "o", "", "write the parts to `DIR`/train.jsonl, val.jsonl and test.jsonl, or to a path with {part} in it (data/{part}.json)")
	fs.StringVar(&d.to, "to", "", "output `format` (default: the first input's)")
	fs.StringVar(&d.register, "register", "", "add the parts as datasets `NAME`_train, _val and _test to the dataset_info.json next to them")
	ratios := fs.String("ratios", "0.9,0.05,0.05", "train,val,test `ratios` (a part with 0 is not written)")
	var opt dataset.SplitOptions
	fs.Uint64Var(&opt.Seed, "seed", 0, "random seed of the assignment")
	stratify := fs.String("stratify", "", "split each value of this `field` (a record key, or label, lang, kind) by the ratios on its own")
	fs.Float64Var(&opt.Dedup.Threshold, "threshold", 0.8, "near-duplicates (Jaccard ≥ this) go to the same part")
	files, err := parseData(fs, args)
	if err != nil {
		return err
	}
	if d.out == "" {
		fs.Usage()
		return fmt.Errorf("data split: -o DIR is required")
	}
	if opt.Ratios, err = parseRatios(*ratios); err != nil {
		return err
	}
	if *stratify != "" {
		opt.Stratum = stratumOf(*stratify)
	}
	inputs, err := d.resolveInputs(files)
	if err != nil {
		return fmt.Errorf("data split: %w", err)
	}
	inputs, cleanup, err := spoolStdin(inputs)
	if err != nil {
		return err
	}
	defer cleanup()
	tightenGC()
	splitter, err := dataset.NewSplitter(opt)
	if err != nil {
		return err
	}
	first := newRecordStream(ctx, "split (1/2)", inputs, &d, stderr)
	format, err := forEach(first, splitter.Add)
	if err != nil {
		return err
	}
	plan := splitter.Plan()
	leaks, paths, err := writeParts(ctx, &d, inputs, format, &plan, opt, stderr)
	if err != nil {
		return err
	}
	return printSplit(stdout, &d, plan.Report, leaks, paths, first)
}

// forEach feeds every good example of a stream to f and returns the
// stream's first format.
func forEach(in *recordStream, f func(*dataset.Example)) (dataset.Format, error) {
	defer in.Close()
	format, err := in.Format()
	if err != nil {
		return "", err
	}
	for {
		ex, err := in.Next()
		if err == io.EOF {
			return format, nil
		}
		if err != nil {
			return "", err
		}
		f(&ex)
	}
}

// writeParts is the second pass: each record to its part, checked for leaks.
func writeParts(ctx context.Context, d *dataFlags, inputs []dataInput, format dataset.Format, plan *dataset.SplitPlan,
	opt dataset.SplitOptions, stderr io.Writer) (dataset.LeakageReport, [3]string, error) {
	var paths [3]string
	var outs [3]*output
	defer func() {
		for _, o := range outs {
			if o != nil {
				o.Abort()
			}
		}
	}()
	for p, name := range dataset.SplitParts {
		if opt.Ratios[p] == 0 {
			continue
		}
		paths[p] = partPath(d.out, name)
		if dir := filepath.Dir(paths[p]); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return dataset.LeakageReport{}, paths, err
			}
		}
		pd := *d
		if d.register != "" {
			pd.register = d.register + "_" + name
		}
		var err error
		if outs[p], err = pd.openOutput(paths[p], format, stderr); err != nil {
			return dataset.LeakageReport{}, paths, err
		}
	}
	check := dataset.NewLeakageCheck(opt.Dedup)
	in := newRecordStream(ctx, "split (2/2)", inputs, d, stderr)
	in.quiet = true
	i := 0
	var werr error
	_, err := forEach(in, func(ex *dataset.Example) {
		p := plan.Part(i)
		i++
		check.Add(p, ex)
		if werr == nil {
			werr = outs[p].Write(ex)
		}
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return dataset.LeakageReport{}, paths, err
	}
	for p, o := range outs {
		if o == nil {
			continue
		}
		outs[p] = nil
		if err := o.Close(); err != nil {
			return dataset.LeakageReport{}, paths, err
		}
	}
	return check.Report(), paths, nil
}

// partPath places a part: in the {part} template, or as DIR/part.jsonl.
func partPath(out, part string) string {
	if strings.Contains(out, "{part}") {
		return strings.ReplaceAll(out, "{part}", part)
	}
	return filepath.Join(out, part+".jsonl")
}

func parseRatios(s string) ([3]float64, error) {
	var r [3]float64
	fields := strings.Split(s, ",")
	if len(fields) < 2 || len(fields) > 3 {
		return r, fmt.Errorf("--ratios %q: want train,val or train,val,test", s)
	}
	for i, f := range fields {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v < 0 {
			return r, fmt.Errorf("--ratios %q: %q is not a non-negative number", s, f)
		}
		r[i] = v
	}
	return r, nil
}

// stratumOf reads a record key (a string value is unquoted), or the KTO
// label, the detected language or the kind of example.
func stratumOf(field string) func(*dataset.Example) string {
	return func(ex *dataset.Example) string {
		if v, ok := ex.ExtraValue(field); ok {
			if s, err := strconv.Unquote(string(v)); err == nil {
				return s
			}
			return string(v)
		}
		switch field {
		case "label":
			if ex.Label != nil {
				return strconv.FormatBool(*ex.Label)
			}
		case "lang", "language":
			return dataset.DetectLanguage(ex.Text())
		case "kind":
			return ex.Kind().String()
		}
		return ""
	}
}

// spoolStdin copies standard input to a temporary file, so a second pass
// can read it again.
func spoolStdin(inputs []dataInput) ([]dataInput, func(), error) {
	cleanup := func() {}
	for i, in := range inputs {
		if in.path != "-" {
			continue
		}
		f, err := os.CreateTemp("", "flywheel-stdin-*")
		if err != nil {
			return nil, cleanup, err
		}
		n, err := io.Copy(f, os.Stdin)
		f.Close()
		if err != nil {
			os.Remove(f.Name())
			return nil, cleanup, err
		}
		inputs[i].path, inputs[i].size = f.Name(), n
		cleanup = func() { os.Remove(f.Name()) }
		break
	}
	return inputs, cleanup, nil
}

func printSplit(w io.Writer, d *dataFlags, r dataset.SplitReport, leaks dataset.LeakageReport, paths [3]string, in *recordStream) error {
	if d.asJSON {
		return printJSON(w, struct {
			dataset.SplitReport
			Files   [3]string             `json:"files"`
			Leakage dataset.LeakageReport `json:"leakage"`
			Invalid []invalidJSON         `json:"invalid"`
		}{r, paths, leaks, invalidList(in.invalid)})
	}
	fmt.Fprintf(w, "split %d records (seed %d):\n", r.Records, r.Seed)
	for p, name := range dataset.SplitParts {
		if paths[p] != "" {
			fmt.Fprintf(w, "  %-5s %8d  %5.1f%%  %s\n", name, r.Parts[p], 100*float64(r.Parts[p])/float64(max(1, r.Records)), paths[p])
		}
	}
	for _, s := range r.Strata {
		fmt.Fprintf(w, "  stratum %q: train %d, val %d, test %d\n", s.Value, s.Parts[0], s.Parts[1], s.Parts[2])
	}
	fmt.Fprintf(w, "%d groups of near-duplicates (%d records) kept within one part\n", r.Groups, r.GroupedRecords)
	fmt.Fprintf(w, "leakage check: %d records compared, %d exact and %d near duplicates across parts\n", leaks.Checked, leaks.Exact, leaks.Near)
	if n := len(in.invalid); n > 0 {
		fmt.Fprintf(w, "skipped %d bad records\n", n)
	}
	return nil
}
