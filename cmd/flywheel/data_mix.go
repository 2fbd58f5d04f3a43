package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"flywheel/internal/dataset"
)

func runDataMix(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("data mix", stderr)
	d := dataFlags{stdout: stdout, stderr: stderr}
	d.addInput(fs)
	d.addOutput(fs)
	var opt dataset.MixOptions
	fs.IntVar(&opt.Total, "n", 0, "records to write (default: the most that repeats no record)")
	fs.Uint64Var(&opt.Seed, "seed", 0, "random seed of the sampling and interleaving")
	args, err := parseData(fs, args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		fs.Usage()
		return fmt.Errorf("data mix: name the sets as FILE[:WEIGHT] ...")
	}
	var files []string
	var weights []float64
	for _, a := range args {
		f, w := splitWeight(a)
		files = append(files, f)
		weights = append(weights, w)
	}
	var sources [][]dataInput
	for _, f := range files {
		in, err := d.resolveInputs([]string{f})
		if err != nil {
			return fmt.Errorf("data mix: %w", err)
		}
		if in, _, err = spoolStdin(in); err != nil {
			return err
		}
		sources = append(sources, in)
	}
	counts := make([]int, len(sources))
	var invalid []invalidJSON
	var format dataset.Format
	for i, src := range sources {
		in := newRecordStream(ctx, "mix (count)", src, &d, stderr)
		f, err := forEach(in, func(*dataset.Example) { counts[i]++ })
		if err != nil {
			return err
		}
		if i == 0 {
			format = f
		}
		invalid = append(invalid, invalidList(in.invalid)...)
	}
	plan, err := dataset.PlanMix(counts, weights, opt)
	if err != nil {
		return err
	}
	out, err := d.openOutput(d.out, format, stderr)
	if err != nil {
		return err
	}
	if err := writeMix(ctx, &d, sources, plan, out, stderr); err != nil {
		out.Abort()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	report := d.reportWriter(stdout, stderr)
	type sourceJSON struct {
		File    string  `json:"file"`
		Records int     `json:"records"`
		Weight  float64 `json:"weight"`
		Share   float64 `json:"share"`
		Taken   int     `json:"taken"`
	}
	var rows []sourceJSON
	for i, f := range files {
		rows = append(rows, sourceJSON{f, counts[i], weights[i], plan.Shares[i], plan.Quotas[i]})
	}
	if d.asJSON {
		return printJSON(report, struct {
			Total   int           `json:"total"`
			Seed    uint64        `json:"seed"`
			Sources []sourceJSON  `json:"sources"`
			Invalid []invalidJSON `json:"invalid"`
		}{plan.Total, opt.Seed, rows, invalid})
	}
	fmt.Fprintf(report, "mixed %d records into %s (seed %d):\n", plan.Total, outName(out.path), opt.Seed)
	for _, r := range rows {
		note := ""
		if r.Taken > r.Records {
			note = fmt.Sprintf(" (repeated ×%.2f)", float64(r.Taken)/float64(r.Records))
		}
		fmt.Fprintf(report, "  %-40s %8d of %8d  %5.1f%%%s\n", r.File, r.Taken, r.Records, 100*r.Share, note)
	}
	return nil
}

// splitWeight splits "FILE:WEIGHT"; a missing or unparsable weight is 1.
func splitWeight(arg string) (string, float64) {
	i := strings.LastIndexByte(arg, ':')
	if i <= 0 {
		return arg, 1
	}
	w, err := strconv.ParseFloat(arg[i+1:], 64)
	if err != nil {
		return arg, 1
	}
	return arg[:i], w
}

// mixSource reads one source in the second pass, handing out each record
// as many times as the plan says.
type mixSource struct {
	in    *recordStream
	index int // records read
	ex    dataset.Example
	left  int // copies of ex still to hand out
}

func (m *mixSource) next(plan *dataset.MixPlan, s int) (*dataset.Example, error) {
	for m.left == 0 {
		ex, err := m.in.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("mix: source %d ended early: did the file change between the two passes?", s)
		}
		if err != nil {
			return nil, err
		}
		m.ex, m.left = ex, plan.Times(s, m.index)
		m.index++
	}
	m.left--
	return &m.ex, nil
}

func writeMix(ctx context.Context, d *dataFlags, sources [][]dataInput, plan *dataset.MixPlan, out *output, stderr io.Writer) error {
	srcs := make([]*mixSource, len(sources))
	for i, src := range sources {
		in := newRecordStream(ctx, "mix", src, d, stderr)
		in.quiet = true
		defer in.Close()
		srcs[i] = &mixSource{in: in}
	}
	for s := plan.Next(); s >= 0; s = plan.Next() {
		ex, err := srcs[s].next(plan, s)
		if err != nil {
			return err
		}
		if err := out.Write(ex); err != nil {
			return err
		}
	}
	return nil
}
