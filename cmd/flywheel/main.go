// Command flywheel is one binary for working with large language models:
// load and run LLaMA-family models on the CPU (and, as the project grows,
// fine-tune them and serve them behind a RAG application).
//
// Usage:
//
//	flywheel generate --model PATH --prompt TEXT [flags]
//	flywheel info --model PATH
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

// command is one subcommand: its name, a one-line summary and its entry point.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"generate", "continue a prompt with a model, streaming the text", runGenerate},
	{"tune", "fine-tune a model on a data set: LoRA (or full) SFT with AdamW, checkpoints, metrics", runTune},
	{"merge", "fold a LoRA adapter into a model's weights and write a GGUF", runMerge},
	{"info", "describe a model file: architecture, sizes, dtypes, tokenizer", runInfo},
	{"quantize", "convert a GGUF model's weights to q8_0, q4_0, f16 or bf16", runQuantize},
	{"bench", "measure prompt and generation tokens/s, like llama-bench", runBench},
	{"random", "write a GGUF model of a given shape with random weights (for benchmarks)", runRandom},
	{"eval", "score outputs against references: BLEU, chrF, TER, ROUGE, SQuAD; paired significance", runEval},
	{"tokenize", "print the token ids and pieces of a text", runTokenize},
	{"chat-template", "render a conversation with a model's chat template", runChatTemplate},
	{"data", "validate, convert, clean, dedup, filter, split, mix and describe training data sets", runData},
	{"ingest", "add files (.txt, .md, .html, .jsonl) to a collection: chunk, store and index them", runIngest},
	{"search", "find the passages of a collection that match a query, with why they score", runSearch},
	{"ask", "answer a question from a collection with cited sources (extractive without a model)", runAsk},
	{"minutes", "write a meeting transcript's minutes as JSON: summary, decisions, action items, open questions", runMinutes},
	{"serve", "serve the OpenAI-compatible API, the document-QA app and the web UI (http://127.0.0.1:8080/)", runServe},
	{"keys", "create, list and revoke the API keys of a data directory", runKeys},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "flywheel:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("flywheel: LLaMA-family models on the CPU, in one Go binary.\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun `flywheel COMMAND -h` for a command's flags.\n")
	io.WriteString(w, b.String())
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("flywheel "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
