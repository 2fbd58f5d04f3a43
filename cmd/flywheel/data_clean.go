package main

import (
	"context"
	"fmt"
	"io"

	"flywheel/internal/dataset"
)

func runDataClean(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("data clean", stderr)
	d := dataFlags{stdout: stdout, stderr: stderr}
	d.addInput(fs)
	d.addOutput(fs)
	var opt dataset.CleanOptions
	fs.BoolVar(&opt.KeepHTML, "keep-html", false, "do not turn HTML markup into text")
	fs.BoolVar(&opt.KeepPII, "keep-pii", false, "do not redact e-mails, phone numbers, ID numbers, IP addresses and card numbers")
	fs.BoolVar(&opt.KeepControl, "keep-control", false, "keep control and invisible characters")
	fs.BoolVar(&opt.KeepWhitespace, "keep-whitespace", false, "keep spaces, line ends and blank lines as they are")
	fs.BoolVar(&opt.SkipNFC, "no-nfc", false, "do not normalise to Unicode NFC")
	files, err := parseData(fs, args)
	if err != nil {
		return err
	}
	cleaner := dataset.NewCleaner(opt)
	in, out, _, written, err := streamCommand(ctx, "clean", &d, files, stderr, func(ex *dataset.Example, _ *output) (bool, error) {
		cleaner.Clean(ex)
		return true, nil
	})
	if err != nil {
		return err
	}
	r := cleaner.Report()
	report := d.reportWriter(stdout, stderr)
	if d.asJSON {
		return printJSON(report, struct {
			dataset.CleanReport
			Written    int           `json:"written"`
			Invalid    []invalidJSON `json:"invalid"`
			NotWritten []invalidJSON `json:"not_written"`
		}{r, written, invalidList(in.invalid), invalidList(out.skipped)})
	}
	t, p := r.Texts, r.Texts.Redacted
	fmt.Fprintf(report, "cleaned %d records: %d changed, %d written to %s\n", r.Records, r.Changed, written, outName(out.path))
	fmt.Fprintf(report, "texts changed: html→text %d, nfc %d, control characters %d, whitespace %d\n", t.HTML, t.NFC, t.Control, t.Whitespace)
	fmt.Fprintf(report, "redacted: %d e-mails, %d phone numbers, %d ID numbers, %d IP addresses, %d card numbers\n",
		p.Email, p.Phone, p.ChineseID, p.IP, p.CreditCard)
	if n := len(in.invalid) + len(out.skipped); n > 0 {
		fmt.Fprintf(report, "skipped %d bad records\n", n)
	}
	return nil
}

// outName names an output for reports.
func outName(path string) string {
	if path == "-" {
		return "standard output"
	}
	return path
}
