package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"flywheel/internal/llama"
	"flywheel/internal/tokenizer"
)

func runChatTemplate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("chat-template", stderr)
	var (
		model    = fs.String("model", "", "tokenizer: a GGUF file, a Hugging Face directory or tokenizer.json `path`")
		msgsPath = fs.String("messages", "", `conversation `+"`file`"+`: a JSON list of {"role", "content"} (or {"messages": [...]})`)
		noGen    = fs.Bool("no-generation-prompt", false, "do not append the assistant header that asks the model to answer")
		builtin  = fs.String("template", "", "use this built-in `family` instead of the model's template ("+strings.Join(tokenizer.BuiltinFamilies(), ", ")+")")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" || *msgsPath == "" {
		fs.Usage()
		return fmt.Errorf("chat-template: --model and --messages are required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("chat-template: unexpected argument %q", fs.Arg(0))
	}
	msgs, err := readMessages(*msgsPath)
	if err != nil {
		return err
	}
	tok, err := llama.LoadTokenizer(*model, 0)
	if err != nil {
		return err
	}
	var tpl *tokenizer.Template
	if *builtin != "" {
		tpl, err = tokenizer.BuiltinTemplate(*builtin, tok.Piece(tok.BOS()), tok.Piece(tok.EOS()))
	} else {
		tpl, err = tok.ChatTemplate()
	}
	if err != nil {
		return fmt.Errorf("%s: %w (pick one with --template)", *model, err)
	}
	prompt, err := tpl.Render(msgs, !*noGen)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, prompt)
	return err
}

// readMessages reads a conversation: a JSON list of messages or an object
// with a "messages" list.
func readMessages(path string) ([]tokenizer.Message, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chat-template: %w", err)
	}
	var msgs []tokenizer.Message
	if err := json.Unmarshal(b, &msgs); err != nil {
		var doc struct {
			Messages []tokenizer.Message `json:"messages"`
		}
		if err2 := json.Unmarshal(b, &doc); err2 != nil || doc.Messages == nil {
			return nil, fmt.Errorf("chat-template: %s: want a JSON list of {\"role\", \"content\"} or {\"messages\": [...]}: %w", path, err)
		}
		msgs = doc.Messages
	}
	for i, m := range msgs {
		if m.Role == "" {
			return nil, fmt.Errorf("chat-template: %s: message %d has no role", path, i)
		}
	}
	return msgs, nil
}
