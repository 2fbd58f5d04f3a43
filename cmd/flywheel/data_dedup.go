package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"flywheel/internal/dataset"
)

func runDataDedup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("data dedup", stderr)
	d := dataFlags{stdout: stdout, stderr: stderr}
	d.addInput(fs)
	d.addOutput(fs)
	var opt dataset.DedupOptions
	fs.Float64Var(&opt.Threshold, "threshold", 0.8, "near-duplicate Jaccard similarity of character shingles, 0..1")
	fs.IntVar(&opt.Shingle, "shingle", 5, "characters per shingle")
	fs.BoolVar(&opt.ExactOnly, "exact", false, "find exact duplicates only (after normalising case, punctuation and spaces)")
	fs.BoolVar(&opt.PromptOnly, "prompt-only", false, "compare prompts only: the same question answered twice is a duplicate")
	var against stringList
	fs.Var(&against, "against", "also drop records that duplicate one in this `FILE` (repeatable; e.g. an eval set), which is not written")
	clustersPath := fs.String("clusters", "", "write every cluster as a JSON line to `FILE`")
	show := fs.Int("show", 10, "list the first `N` clusters in the report")
	files, err := parseData(fs, args)
	if err != nil {
		return err
	}
	if opt.Threshold <= 0 || opt.Threshold > 1 {
		return fmt.Errorf("data dedup: --threshold %v: want a similarity in (0, 1]", opt.Threshold)
	}
	tightenGC()
	dedup := dataset.NewDeduper(opt)
	refs, err := addReferences(ctx, dedup, against, &d, stderr)
	if err != nil {
		return err
	}
	base := dedup.Report()
	in, out, _, written, err := streamCommand(ctx, "dedup", &d, files, stderr, func(ex *dataset.Example, _ *output) (bool, error) {
		_, dup := dedup.Add(ex)
		return !dup, nil
	})
	if err != nil {
		return err
	}
	clusters := dedup.Clusters()
	if *clustersPath != "" {
		if err := writeClusters(*clustersPath, clusters); err != nil {
			return err
		}
	}
	r := dedup.Report()
	r.Records -= base.Records
	r.Kept -= base.Kept
	r.Exact -= base.Exact
	r.Near -= base.Near
	report := d.reportWriter(stdout, stderr)
	if d.asJSON {
		return printJSON(report, struct {
			dataset.DedupReport
			Reference int               `json:"reference_records"`
			Written   int               `json:"written"`
			Invalid   []invalidJSON     `json:"invalid"`
			Clusters  []dataset.Cluster `json:"cluster_list"`
		}{r, refs, written, invalidList(in.invalid), clusters})
	}
	fmt.Fprintf(report, "dedup of %d records: %d kept, %d exact and %d near duplicates dropped (Jaccard ≥ %g, %d-character shingles, LSH %d bands × %d rows), %d clusters; %d written to %s\n",
		r.Records, r.Kept, r.Exact, r.Near, r.Threshold, r.Shingle, r.Bands, r.Rows, r.Clusters, written, outName(out.path))
	if refs > 0 {
		fmt.Fprintf(report, "checked against %d reference records\n", refs)
	}
	for i, c := range clusters {
		if i == *show {
			fmt.Fprintf(report, "… %d more clusters (--clusters FILE lists all)\n", len(clusters)-i)
			break
		}
		fmt.Fprintf(report, "cluster %d: kept %v\n", i+1, c.Kept)
		for _, dup := range c.Duplicates {
			kind := fmt.Sprintf("near, similarity %.2f", dup.Similarity)
			if dup.Exact {
				kind = "exact"
			}
			fmt.Fprintf(report, "  dropped %v (%s)\n", dup.Pos, kind)
		}
	}
	return nil
}

// addReferences indexes the --against files; their records are never written.
func addReferences(ctx context.Context, dedup *dataset.Deduper, files []string, d *dataFlags, stderr io.Writer) (int, error) {
	if len(files) == 0 {
		return 0, nil
	}
	inputs, err := d.resolveInputs(files)
	if err != nil {
		return 0, fmt.Errorf("--against: %w", err)
	}
	in := newRecordStream(ctx, "index", inputs, d, stderr)
	defer in.Close()
	n := 0
	for {
		ex, err := in.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		dedup.Add(&ex)
		n++
	}
}

func writeClusters(path string, clusters []dataset.Cluster) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	for _, c := range clusters {
		if err := printCompactJSON(f, c); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
