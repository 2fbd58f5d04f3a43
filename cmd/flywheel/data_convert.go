package main

import (
	"context"
	"fmt"
	"io"

	"flywheel/internal/dataset"
)

func runDataValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("data validate", stderr)
	d := dataFlags{stdout: stdout, stderr: stderr}
	d.addInput(fs)
	fs.StringVar(&d.out, "o", "", "also write the good records to `OUT`")
	fs.StringVar(&d.to, "to", "", "`format` of OUT (default: the first input's)")
	files, err := parseData(fs, args)
	if err != nil {
		return err
	}
	inputs, err := d.resolveInputs(files)
	if err != nil {
		return fmt.Errorf("data validate: %w", err)
	}
	in := newRecordStream(ctx, "validate", inputs, &d, stderr)
	in.skipInvalid, in.quiet = true, true
	defer in.Close()
	var out *output
	if d.out != "" {
		format, err := in.Format()
		if err != nil {
			return err
		}
		if out, err = d.openOutput(d.out, format, stderr); err != nil {
			return err
		}
	}
	valid, err := validateAll(in, out)
	if err != nil {
		if out != nil {
			out.Abort()
		}
		return err
	}
	if out != nil {
		if err := out.Close(); err != nil {
			return err
		}
	}
	report := d.reportWriter(stdout, stderr)
	if d.out == "" {
		report = stdout
	}
	if d.asJSON {
		err = printJSON(report, struct {
			Records int           `json:"records"`
			Valid   int           `json:"valid"`
			Formats []string      `json:"formats"`
			Invalid []invalidJSON `json:"invalid"`
		}{valid + len(in.invalid), valid, formatNames(in.formats), invalidList(in.invalid)})
	} else {
		for _, e := range in.invalid {
			fmt.Fprintln(report, e)
		}
		fmt.Fprintf(report, "%d records: %d valid, %d invalid (%d files)\n", valid+len(in.invalid), valid, len(in.invalid), len(inputs))
	}
	if err != nil {
		return err
	}
	if len(in.invalid) > 0 && !d.skipInvalid {
		return fmt.Errorf("data validate: %d invalid records", len(in.invalid))
	}
	return nil
}

func validateAll(in *recordStream, out *output) (int, error) {
	valid := 0
	for {
		ex, err := in.Next()
		if err == io.EOF {
			return valid, nil
		}
		if err != nil {
			return valid, err
		}
		valid++
		if out != nil {
			if err := out.Write(&ex); err != nil {
				return valid, err
			}
		}
	}
}

func formatNames(fs []dataset.Format) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

func runDataConvert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("data convert", stderr)
	d := dataFlags{stdout: stdout, stderr: stderr}
	d.addInput(fs)
	d.addOutput(fs)
	files, err := parseData(fs, args)
	if err != nil {
		return err
	}
	in, out, read, written, err := streamCommand(ctx, "convert", &d, files, stderr, keepAll)
	if err != nil {
		return err
	}
	report := d.reportWriter(stdout, stderr)
	if d.asJSON {
		return printJSON(report, struct {
			Read       int           `json:"read"`
			Written    int           `json:"written"`
			From       []string      `json:"from"`
			To         string        `json:"to"`
			Invalid    []invalidJSON `json:"invalid"`
			NotWritten []invalidJSON `json:"not_written"`
		}{read, written, formatNames(in.formats), string(out.w.Format()), invalidList(in.invalid), invalidList(out.skipped)})
	}
	fmt.Fprintf(report, "converted %d records (%s) to %d %s records in %s", read, joinFormats(in.formats), written, out.w.Format(), out.path)
	if n := len(in.invalid) + len(out.skipped); n > 0 {
		fmt.Fprintf(report, "; %d skipped", n)
	}
	fmt.Fprintln(report)
	return nil
}

func joinFormats(fs []dataset.Format) string {
	seen := map[dataset.Format]bool{}
	var s string
	for _, f := range fs {
		if !seen[f] {
			if s != "" {
				s += ", "
			}
			s += string(f)
			seen[f] = true
		}
	}
	return s
}
