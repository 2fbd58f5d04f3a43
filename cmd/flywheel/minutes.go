package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"flywheel/internal/eval"
	"flywheel/internal/llama"
	"flywheel/internal/llm"
	"flywheel/internal/longdoc"
	"flywheel/internal/prompt"
)

// minutesExample is the command line the error for a missing model shows.
const minutesExample = "flywheel minutes --model ../shared/testdata/models/stories260K/stories260K.bin --max-tokens 96 meeting.txt\n" +
	"  or: flywheel minutes --llm-url https://api.openai.com/v1 --llm-model gpt-4o-mini meeting.txt"

func runMinutes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("minutes", stderr)
	var (
		modelPath   = fs.String("model", "", "local model: a GGUF file, a Hugging Face directory or a llama2.c .bin `path`")
		tokPath     = fs.String("tokenizer", "", "tokenizer `file` for a local model that holds none")
		llmURL      = fs.String("llm-url", "", "OpenAI-compatible endpoint `URL` (the key is read from OPENAI_API_KEY)")
		llmModel    = fs.String("llm-model", "", "model `name` at --llm-url")
		out         = fs.String("out", "", "write the minutes to this `file` (default: standard output)")
		reference   = fs.String("reference", "", "a text `file` with a human summary: print ROUGE-1/2/L of the minutes' summary against it")
		chunkTokens = fs.Int("chunk-tokens", 0, "tokens of transcript per call (0: what the context leaves)")
		ctxLen      = fs.Int("ctx", 0, "context length in tokens (0: the local model's, at most 4096; 4096 for an endpoint)")
		maxTokens   = fs.Int("max-tokens", 0, "most tokens one call generates (0: 1024)")
		concurrency = fs.Int("concurrency", 0, "calls made at once (0: 1 for a local model, 4 for an endpoint)")
		threads     = fs.Int("threads", runtime.NumCPU(), "compute threads of a local model")
		id          = fs.String("id", "", "the `id` of the record to use when TRANSCRIPT holds several (JSON Lines)")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flywheel minutes [--model PATH | --llm-url URL --llm-model NAME] [--out FILE] [--reference FILE] [--chunk-tokens N] TRANSCRIPT\n\n"+
			"Writes the minutes of a meeting as JSON (summary, decisions, action items, open questions) valid\n"+
			"against longdoc.MinutesSchema. TRANSCRIPT is plain text with one \"Speaker: utterance\" line per turn,\n"+
			"a QMSum JSON file, or JSON Lines with a \"text\" field.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("minutes: want one TRANSCRIPT file, got %d arguments: %w", fs.NArg(), errUsage)
	}
	if err := checkModelFlags(*modelPath, *llmURL, *llmModel); err != nil {
		return err
	}
	transcript, err := readTranscript(fs.Arg(0), *id)
	if err != nil {
		return err
	}
	opt := longdoc.MinutesOptions{
		Options: longdoc.Options{Context: *ctxLen, MaxTokens: *maxTokens, ChunkTokens: *chunkTokens, Concurrency: *concurrency},
		Title:   transcript.ID,
	}
	model, closeModel, err := openChatModel(*modelPath, *tokPath, *llmURL, *llmModel, *threads, &opt.Options)
	if err != nil {
		return err
	}
	defer closeModel()
	opt.Progress = func(p longdoc.Progress) {
		fmt.Fprintf(stderr, "minutes: %s %d/%d\n", p.Stage, p.Done, p.Total)
	}
	doc, err := longdoc.Minutes(ctx, model, transcript.Text(), opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "minutes: %d chunks, %d calls, %d prompt + %d completion tokens, $%.4f\n",
		len(doc.Chunks), doc.Calls, doc.Usage.PromptTokens, doc.Usage.CompletionTokens, doc.Cost)
	if err := writeMinutes(stdout, *out, doc); err != nil {
		return err
	}
	if *reference != "" {
		return printSummaryRouge(stderr, *reference, doc.Summary)
	}
	return nil
}

// readTranscript reads the one transcript of path, or the record id of a
// file that holds several.
func readTranscript(path, id string) (longdoc.Transcript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return longdoc.Transcript{}, fmt.Errorf("minutes: %w", err)
	}
	ts, err := longdoc.ParseTranscripts(data)
	if err != nil {
		return longdoc.Transcript{}, fmt.Errorf("minutes: %s: %w", path, err)
	}
	if id == "" {
		if len(ts) > 1 {
			return longdoc.Transcript{}, fmt.Errorf("minutes: %s holds %d transcripts (ids %s): pick one with --id", path, len(ts), transcriptIDs(ts))
		}
		if ts[0].ID == "" {
			ts[0].ID = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		}
		return ts[0], nil
	}
	for _, t := range ts {
		if t.ID == id {
			return t, nil
		}
	}
	return longdoc.Transcript{}, fmt.Errorf("minutes: %s has no transcript with id %q (ids %s)", path, id, transcriptIDs(ts))
}

func transcriptIDs(ts []longdoc.Transcript) string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return strings.Join(ids, ", ")
}

// checkModelFlags says what is wrong with the choice of a model, if
// anything: minutes need one, local or remote.
func checkModelFlags(path, url, name string) error {
	switch {
	case path != "" && url != "":
		return errors.New("minutes: give --model or --llm-url, not both")
	case url != "" && name == "":
		return errors.New("minutes: --llm-url needs --llm-model NAME")
	case path == "" && url == "":
		return fmt.Errorf("minutes: a model is needed: minutes are written by generation. Give a local model or an endpoint, such as\n  %s", minutesExample)
	}
	return nil
}

// openChatModel opens the local model at path, or else the endpoint at
// url, and sets the context, the token counter and the concurrency that
// suit it in opt (unless set). release frees the model.
func openChatModel(path, tokPath, url, name string, threads int, opt *longdoc.Options) (m llm.Model, release func(), err error) {
	if path == "" {
		remote, err := llm.NewOpenAI(llm.OpenAIConfig{URL: url, Model: name})
		if err != nil {
			return nil, nil, err
		}
		opt.Count = prompt.ApproxTokens
		return remote, func() {}, nil
	}
	lm, err := llama.Load(path, llama.Options{Tokenizer: tokPath, HugePages: true})
	if err != nil {
		return nil, nil, err
	}
	local, err := llm.NewLocalFromModel(lm, llm.LocalConfig{Context: opt.Context, Threads: threads})
	if err != nil {
		lm.Close()
		return nil, nil, err
	}
	opt.Context = local.Context()
	tok := lm.Tokenizer
	opt.Count = func(s string) int { return len(tok.Encode(s, false, false)) }
	if opt.Concurrency <= 0 {
		opt.Concurrency = 1 // one slot: more calls would only queue
	}
	return local, func() { local.Close(); lm.Close() }, nil
}

// writeMinutes writes doc as indented JSON to stdout, or to the file out
// (through a temporary file renamed into place, so a failure leaves no
// partial file).
func writeMinutes(stdout io.Writer, out string, doc *longdoc.MinutesDoc) error {
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("minutes: %w", err)
	}
	data = append(data, '\n')
	if out == "" {
		_, err := stdout.Write(data)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp*")
	if err != nil {
		return fmt.Errorf("minutes: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("minutes: writing %s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("minutes: writing %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("minutes: %w", err)
	}
	return nil
}

// minutesRouge is how the summary is scored against a reference: rouge-score
// with the Porter stemmer, as summarisation papers (QMSum's included) report.
var minutesRouge = eval.RougeConfig{Types: []string{"rouge1", "rouge2", "rougeL"}, UseStemmer: true}

// printSummaryRouge prints the ROUGE F-measures of summary against the human
// summary in the file reference.
func printSummaryRouge(w io.Writer, reference, summary string) error {
	ref, err := os.ReadFile(reference)
	if err != nil {
		return fmt.Errorf("minutes: --reference: %w", err)
	}
	r, err := eval.NewRouge(minutesRouge)
	if err != nil {
		return err
	}
	s := r.Score(string(ref), summary)
	fmt.Fprintf(w, "ROUGE-1 %.4f  ROUGE-2 %.4f  ROUGE-L %.4f  (F-measure of the summary against %s; %s)\n",
		s[0].FMeasure, s[1].FMeasure, s[2].FMeasure, reference, r.Signature())
	return nil
}
