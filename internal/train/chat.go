package train

import (
	"errors"

	"flywheel/internal/tokenizer"
)

// ChatTemplate picks the template conversations are formatted with:
// "auto" is the model's own (nil, the plain layout, for a base model
// without one), "none" the plain layout, and any other choice a built-in
// template family. A nil tokenizer gives the plain layout.
func ChatTemplate(tok *tokenizer.Tokenizer, choice string) (*tokenizer.Template, error) {
	if tok == nil || choice == "none" {
		return nil, nil
	}
	if choice == "auto" || choice == "" {
		t, err := tok.ChatTemplate()
		if errors.Is(err, tokenizer.ErrNoChatTemplate) {
			return nil, nil // a base model: plain layout
		}
		return t, err
	}
	return tokenizer.BuiltinTemplate(choice, tok.Piece(tok.BOS()), tok.Piece(tok.EOS()))
}

// TemplateEncoder renders conversations with tpl and tokenizes them,
// marking the assistant turns: the same code serving formats prompts
// with.
func TemplateEncoder(tok *tokenizer.Tokenizer, tpl *tokenizer.Template) ChatEncoder {
	return func(msgs []ChatMessage) ([]int, []bool, error) {
		tm := make([]tokenizer.Message, len(msgs))
		for i, m := range msgs {
			tm[i] = tokenizer.Message{Role: m.Role, Content: m.Content}
		}
		segs, err := tpl.Segments(tm)
		if err != nil {
			return nil, nil, err
		}
		ids, trained := tok.EncodeSegments(segs)
		return ids, trained, nil
	}
}
