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

func runTokenize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tokenize", stderr)
	var (
		model        = fs.String("model", "", "tokenizer: a GGUF file (a vocabulary-only one is enough), a Hugging Face directory or tokenizer.json, or a llama2.c tokenizer.bin `path`")
		asJSON       = fs.Bool("json", false, `print {"ids": [...], "pieces": [...]}`)
		noSpecial    = fs.Bool("no-special", false, "add no BOS/EOS (by default they are added as the vocabulary says)")
		parseSpecial = fs.Bool("parse-special", false, "turn special-token text such as <|im_start|> into control tokens")
		file         = fs.String("file", "", "read the text from this `file`, byte for byte, instead of the argument")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" {
		fs.Usage()
		return fmt.Errorf("tokenize: --model is required")
	}
	text, err := tokenizeInput(fs.Args(), *file)
	if err != nil {
		return err
	}
	tok, err := llama.LoadTokenizer(*model, 0)
	if err != nil {
		return err
	}
	ids := tok.Encode(text, !*noSpecial, *parseSpecial)
	pieces := make([]string, len(ids))
	for i, id := range ids {
		pieces[i] = tok.Piece(id)
	}
	if *asJSON {
		b, err := json.Marshal(struct {
			IDs    []int    `json:"ids"`
			Pieces []string `json:"pieces"`
		}{ids, pieces})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	var b strings.Builder
	for i, id := range ids {
		fmt.Fprintf(&b, "%6d -> %s\n", id, quotePiece(tok, id, pieces[i]))
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

// tokenizeInput is the text to tokenize: the one argument, or the file.
func tokenizeInput(args []string, file string) (string, error) {
	switch {
	case file != "" && len(args) > 0:
		return "", fmt.Errorf("tokenize: give the text as an argument or with --file, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("tokenize: %w", err)
		}
		return string(b), nil
	case len(args) != 1:
		return "", fmt.Errorf("tokenize: want exactly one TEXT argument (quote it), got %d", len(args))
	}
	return args[0], nil
}

// quotePiece shows a piece and, when it differs, the text it stands for.
func quotePiece(tok *tokenizer.Tokenizer, id int, piece string) string {
	text := string(tok.TokenBytes(id))
	if text == piece || tok.IsControl(id) {
		return fmt.Sprintf("%q", piece)
	}
	return fmt.Sprintf("%q (%q)", piece, text)
}
