package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"flywheel/internal/dataset"
)

func runDataFilter(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("data filter", stderr)
	d := dataFlags{stdout: stdout, stderr: stderr}
	d.addInput(fs)
	d.addOutput(fs)
	var opt dataset.FilterOptions
	tokPath := fs.String("tokenizer", "", "count tokens with this `model` (GGUF file or llama2.c tokenizer.bin); default: estimate")
	fs.IntVar(&opt.MinTokens, "min-tokens", 0, "drop examples shorter than `N` tokens (system, prompt and the longer answer)")
	fs.IntVar(&opt.MaxTokens, "max-tokens", 0, "drop examples longer than `N` tokens")
	langs := fs.String("lang", "", "keep only these `languages`, comma-separated (zh, en, ja, ko, ru, ar, fr, de, es, other)")
	fs.IntVar(&opt.MinAnswerChars, "min-answer", 0, "drop answers shorter than `N` characters (default: drop empty answers)")
	fs.Float64Var(&opt.MaxRepetition, "max-repetition", 0.6, "drop answers whose share of repeated 10-character n-grams is above `R` (1: keep all)")
	dropped := fs.String("dropped", "", "write the dropped records to `FILE`, same format as OUT")
	files, err := parseData(fs, args)
	if err != nil {
		return err
	}
	counter, tokName, err := tokenCounter(*tokPath)
	if err != nil {
		return err
	}
	if *tokPath == "" && (opt.MinTokens > 0 || opt.MaxTokens > 0) {
		fmt.Fprintln(stderr, "note: token lengths are estimated; pass --tokenizer MODEL for exact counts")
	}
	opt.Tokens = counter
	if *langs != "" {
		opt.Languages = strings.Split(*langs, ",")
	}
	filter := dataset.NewFilter(opt)
	var drop *output
	defer func() {
		if drop != nil {
			drop.Abort()
		}
	}()
	in, out, _, written, err := streamCommand(ctx, "filter", &d, files, stderr, func(ex *dataset.Example, out *output) (bool, error) {
		ok, _ := filter.Keep(ex)
		if ok || *dropped == "" {
			return ok, nil
		}
		if drop == nil {
			dd := d
			dd.register = ""
			var err error
			dd.to = string(out.w.Format())
			if drop, err = dd.openOutput(*dropped, out.w.Format(), stderr); err != nil {
				return false, err
			}
		}
		return false, drop.Write(ex)
	})
	if err != nil {
		return err
	}
	if drop != nil {
		if err := drop.Close(); err != nil {
			return err
		}
		drop = nil
	}
	r := filter.Report()
	report := d.reportWriter(stdout, stderr)
	if d.asJSON {
		return printJSON(report, struct {
			dataset.FilterReport
			Written   int           `json:"written"`
			Tokenizer string        `json:"tokenizer"`
			Invalid   []invalidJSON `json:"invalid"`
		}{r, written, tokName, invalidList(in.invalid)})
	}
	fmt.Fprintf(report, "filtered %d records: %d kept, %d dropped; %d written to %s\n", r.Records, r.Kept, r.Records-r.Kept, written, outName(out.path))
	reasons := make([]string, 0, len(r.Dropped))
	for k := range r.Dropped {
		reasons = append(reasons, k)
	}
	slices.Sort(reasons)
	for _, k := range reasons {
		fmt.Fprintf(report, "  %-16s %d\n", k, r.Dropped[k])
	}
	if opt.MinTokens > 0 || opt.MaxTokens > 0 {
		fmt.Fprintf(report, "tokens: %s\n", tokName)
	}
	return nil
}
