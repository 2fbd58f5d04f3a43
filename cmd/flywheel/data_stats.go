package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"flywheel/internal/dataset"
)

func runDataStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("data stats", stderr)
	d := dataFlags{stdout: stdout, stderr: stderr}
	d.addInput(fs)
	var opt dataset.StatsOptions
	tokPath := fs.String("tokenizer", "", "count tokens with this `model` (GGUF file or llama2.c tokenizer.bin); default: estimate")
	fs.IntVar(&opt.Bins, "bins", 20, "histogram bins")
	svg := fs.String("histogram", "", "draw the token-length histograms to this SVG `file`")
	fs.BoolVar(&opt.SkipDuplicates, "no-dedup", false, "do not count duplicates (saves memory on huge sets)")
	fs.Float64Var(&opt.Dedup.Threshold, "threshold", 0.8, "near-duplicate Jaccard similarity for the duplicate rate")
	files, err := parseData(fs, args)
	if err != nil {
		return err
	}
	counter, tokName, err := tokenCounter(*tokPath)
	if err != nil {
		return err
	}
	opt.Tokens = counter
	inputs, err := d.resolveInputs(files)
	if err != nil {
		return fmt.Errorf("data stats: %w", err)
	}
	in := newRecordStream(ctx, "stats", inputs, &d, stderr)
	defer in.Close()
	tightenGC()
	stats := dataset.NewStats(opt)
	for {
		ex, err := in.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		stats.Add(&ex)
	}
	r := stats.Report()
	if *svg != "" {
		if err := os.WriteFile(*svg, dataset.HistogramSVG(r, strings.Join(files, ", ")), 0o644); err != nil {
			return err
		}
	}
	if d.asJSON {
		return printJSON(stdout, struct {
			dataset.StatsReport
			Tokenizer string        `json:"tokenizer"`
			Files     []string      `json:"files"`
			Formats   []string      `json:"formats"`
			Invalid   []invalidJSON `json:"invalid"`
		}{r, tokName, inputPaths(inputs), formatNames(in.formats), invalidList(in.invalid)})
	}
	printStats(stdout, r, tokName, in)
	return nil
}

func inputPaths(in []dataInput) []string {
	out := make([]string, len(in))
	for i, x := range in {
		out[i] = x.path
	}
	return out
}

func printStats(w io.Writer, r dataset.StatsReport, tokName string, in *recordStream) {
	fmt.Fprintf(w, "records     %d (%s)", r.Records, joinFormats(in.formats))
	if len(in.invalid) > 0 {
		fmt.Fprintf(w, ", %d invalid skipped", len(in.invalid))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "kinds       sft %d, preference %d, kto %d", r.Kinds.SFT, r.Kinds.Preference, r.Kinds.KTO)
	if r.Kinds.KTO > 0 {
		fmt.Fprintf(w, " (desirable %d, undesirable %d)", r.KTOLabels.Desirable, r.KTOLabels.Undesirable)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "with        system prompt %d, tools %d, function calls %d\n", r.WithSystem, r.WithTools, r.WithFunctionCalls)
	var turns []string
	for _, t := range r.Turns.Counts {
		turns = append(turns, fmt.Sprintf("%d: %d", t.Turns, t.Count))
	}
	fmt.Fprintf(w, "turns       mean %.2f, max %d (%s)\n", r.Turns.Mean, r.Turns.Max, strings.Join(turns, ", "))
	var langs []string
	for _, l := range r.Languages {
		langs = append(langs, fmt.Sprintf("%s %.1f%%", l.Language, 100*l.Share))
	}
	fmt.Fprintf(w, "languages   %s\n", strings.Join(langs, ", "))
	if dup := r.Duplicates; dup != nil {
		fmt.Fprintf(w, "duplicates  %.2f%% (%d exact, %d near at Jaccard ≥ %g)\n", 100*dup.Rate, dup.Exact, dup.Near, dup.Threshold)
	}
	fmt.Fprintf(w, "\ntokens: %s\n", tokName)
	fmt.Fprintf(w, "%-9s %8s %6s %8s %6s %6s %6s %6s %7s\n", "field", "count", "min", "mean", "p50", "p90", "p95", "p99", "max")
	for _, f := range r.Fields {
		fmt.Fprintf(w, "%-9s %8d %6d %8.1f %6d %6d %6d %6d %7d\n", f.Field, f.Count, f.Min, f.Mean, f.P50, f.P90, f.P95, f.P99, f.Max)
	}
	for _, f := range r.Fields {
		fmt.Fprintf(w, "\n%s tokens\n", f.Field)
		printHistogram(w, f.Histogram)
	}
}

// printHistogram draws a histogram with bars of # characters.
func printHistogram(w io.Writer, h dataset.Histogram) {
	peak := 1
	for _, c := range h.Counts {
		peak = max(peak, c)
	}
	for i, c := range h.Counts {
		label := fmt.Sprintf("%d–%d", i*h.Width, (i+1)*h.Width-1)
		if i == len(h.Counts)-1 {
			label = fmt.Sprintf("%d+", i*h.Width)
		}
		fmt.Fprintf(w, "  %12s %7d %s\n", label, c, strings.Repeat("#", (c*40+peak-1)/peak))
	}
}
