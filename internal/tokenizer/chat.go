package tokenizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ardanlabs/jinja"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"` // "system", "user", "assistant" (or what the template knows)
	Content string `json:"content"`
}

// Template is a compiled chat template: the model's own Jinja
// chat_template, or a built-in one for its family. It turns a conversation
// into the prompt text the model was trained on. The text holds the
// special tokens (BOS included, where the template writes it), so encode
// it with Encode(text, false, true). Serving and fine-tuning both format
// conversations through Render and Segments, so they cannot drift apart.
//
// A Template is safe for concurrent use.
type Template struct {
	source   string
	builtin  string // the built-in family name, "" for a model's own template
	family   string // DetectFamily(source) for a model's own template
	tpl      *jinja.Template
	bos, eos string // texts of the special tokens the template may write
}

// ErrNoChatTemplate is returned by ChatTemplate when the vocabulary has no
// chat template and no family marker to choose a built-in one.
var ErrNoChatTemplate = errors.New("no chat template")

// NewTemplate compiles a Jinja chat template. bos and eos are the texts of
// the vocabulary's BOS and EOS tokens, as the template's bos_token and
// eos_token.
func NewTemplate(source, bos, eos string) (*Template, error) {
	tpl, err := jinja.Compile(source)
	if err != nil {
		return nil, fmt.Errorf("chat template: %w", err)
	}
	return &Template{source: source, family: DetectFamily(source), tpl: tpl, bos: bos, eos: eos}, nil
}

// BuiltinTemplate returns the built-in template of a family (see
// BuiltinFamilies), with bos and eos as in NewTemplate.
func BuiltinTemplate(family, bos, eos string) (*Template, error) {
	src, ok := builtinTemplates[family]
	if !ok {
		return nil, fmt.Errorf("chat template: no built-in template %q (built-in: %s)", family, strings.Join(BuiltinFamilies(), ", "))
	}
	t, err := NewTemplate(src, bos, eos)
	if err != nil {
		return nil, err
	}
	t.builtin, t.family = family, family
	return t, nil
}

// BuiltinFamilies lists the built-in templates.
func BuiltinFamilies() []string {
	names := make([]string, 0, len(builtinTemplates))
	for name := range builtinTemplates {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Family is the family the template belongs to ("chatml", "llama3", …;
// "" when unknown).
func (tpl *Template) Family() string { return tpl.family }

// Builtin is the built-in family name when the template is a built-in one,
// else "".
func (tpl *Template) Builtin() string { return tpl.builtin }

// Source is the Jinja text of the template.
func (tpl *Template) Source() string { return tpl.source }

// Render formats a conversation. addGenerationPrompt appends the header of
// an assistant turn, for a prompt the model is to continue.
func (tpl *Template) Render(msgs []Message, addGenerationPrompt bool) (string, error) {
	list := make([]any, len(msgs))
	for i, m := range msgs {
		list[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	out, err := tpl.tpl.Render(map[string]any{
		"messages":              list,
		"add_generation_prompt": addGenerationPrompt,
		"bos_token":             tpl.bos,
		"eos_token":             tpl.eos,
	})
	if err != nil {
		return "", fmt.Errorf("chat template: %w", err)
	}
	return out, nil
}

// Segment is a piece of a rendered conversation. Train marks the text of an
// assistant turn (what a fine-tuned model learns to produce, its end-of-turn
// tokens included); the rest is prompt.
type Segment struct {
	Text  string
	Train bool
}

// Segments renders a conversation for fine-tuning, cut into prompt and
// response pieces whose concatenation is Render(msgs, false). Each assistant
// turn's response is what the full rendering adds after the rendering of the
// messages before it with a generation prompt, so the prompt a model is
// trained on is byte for byte the prompt it is served. A template that
// rewrites earlier turns as the conversation grows cannot be cut this way
// and gives an error naming the message.
func (tpl *Template) Segments(msgs []Message) ([]Segment, error) {
	full, err := tpl.Render(msgs, false)
	if err != nil {
		return nil, err
	}
	var segs []Segment
	done := 0 // bytes of full already in segs
	for i, m := range msgs {
		if m.Role != "assistant" {
			continue
		}
		prompt, err := tpl.Render(msgs[:i], true)
		if err != nil {
			return nil, err
		}
		upTo, err := tpl.Render(msgs[:i+1], false)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(upTo, prompt) || !strings.HasPrefix(full, upTo) || len(prompt) < done {
			return nil, fmt.Errorf("chat template: message %d (assistant): the rendering of the conversation up to it is not a prefix of the whole, so prompt and response cannot be told apart", i)
		}
		if len(prompt) > done {
			segs = append(segs, Segment{Text: full[done:len(prompt)]})
		}
		if len(upTo) > len(prompt) {
			segs = append(segs, Segment{Text: full[len(prompt):len(upTo)], Train: true})
		}
		done = len(upTo)
	}
	if done < len(full) {
		segs = append(segs, Segment{Text: full[done:]})
	}
	return segs, nil
}

// EncodeSegments tokenizes rendered segments as one text (special tokens
// parsed, nothing added) and marks the ids that come from Train segments.
// A token that straddles a boundary belongs to the later segment.
func (t *Tokenizer) EncodeSegments(segs []Segment) (ids []int, train []bool) {
	var text strings.Builder
	for _, s := range segs {
		text.WriteString(s.Text)
		cur := t.Encode(text.String(), false, true)
		common := 0
		for common < len(ids) && common < len(cur) && ids[common] == cur[common] {
			common++
		}
		train = train[:common]
		for range cur[common:] {
			train = append(train, s.Train)
		}
		ids = cur
	}
	return ids, train
}

// ChatTemplate returns the template to format conversations for this
// vocabulary: its own chat template when the file has one, else the
// built-in template of the family its special tokens reveal. It returns
// ErrNoChatTemplate when there is neither.
func (t *Tokenizer) ChatTemplate() (*Template, error) {
	bos, eos := t.Piece(t.bos), t.Piece(t.eos)
	if t.chatTemplate != "" {
		return NewTemplate(t.chatTemplate, bos, eos)
	}
	if family := t.family(); family != "" {
		return BuiltinTemplate(family, bos, eos)
	}
	return nil, fmt.Errorf("%w: the vocabulary has none and its special tokens name no family (choose a built-in one: %s)", ErrNoChatTemplate, strings.Join(BuiltinFamilies(), ", "))
}

// family guesses the chat family from the special tokens of the vocabulary.
func (t *Tokenizer) family() string {
	for _, c := range []struct{ token, family string }{
		{"<|im_start|>", "chatml"},
		{"<|start_header_id|>", "llama3"},
		{"<｜begin▁of▁sentence｜>", "deepseek"},
		{"[INST]", "mistral"},
	} {
		if _, ok := t.ids[c.token]; ok {
			return c.family
		}
	}
	return ""
}

// DetectFamily names the family of a chat template's text by the markers
// it writes, after llama.cpp's llm_chat_detect_template: "chatml",
// "mistral", "llama2", "llama3", "deepseek", "deepseek3", "deepseek-coder",
// "gemma", "phi3", "zephyr", "command-r", or "" when none matches.
func DetectFamily(src string) string {
	has := func(s ...string) bool {
		for _, x := range s {
			if !strings.Contains(src, x) {
				return false
			}
		}
		return true
	}
	switch {
	case has("<|im_start|>"):
		return "chatml"
	case strings.HasPrefix(src, "mistral") || has("[INST]"):
		if has("[SYSTEM_PROMPT]") || has("[AVAILABLE_TOOLS]") || has("' [INST] ' + system_message") {
			return "mistral"
		}
		if has("<<SYS>>") || has("content.strip()") || has("bos_token + '[INST]") {
			return "llama2"
		}
		return "mistral"
	case has("<|assistant|>", "<|end|>"):
		return "phi3"
	case has("<|user|>", "<|endoftext|>"):
		return "zephyr"
	case has("<start_of_turn>"):
		return "gemma"
	case has("### Instruction:", "<|EOT|>"):
		return "deepseek-coder"
	case has("<|START_OF_TURN_TOKEN|>", "<|USER_TOKEN|>"):
		return "command-r"
	case has("<|start_header_id|>", "<|end_header_id|>"):
		return "llama3"
	case has("'Assistant: ' + message['content'] + eos_token") || has("'Assistant: ' + message.content + eos_token"):
		return "deepseek"
	case has("<｜Assistant｜>", "<｜User｜>", "<｜end▁of▁sentence｜>"):
		return "deepseek3"
	}
	return ""
}

// builtinTemplates are the formats of the model cards of each family,
// written as Jinja, for vocabularies that carry no template of their own.
var builtinTemplates = map[string]string{
	// ChatML (Qwen, and many fine-tunes):
	// <|im_start|>{role}\n{content}<|im_end|>\n …
	"chatml": `{%- for message in messages -%}
{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}`,

	// Llama 3: <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|> …
	"llama3": `{{- bos_token -}}
{%- for message in messages -%}
{{- '<|start_header_id|>' + message.role + '<|end_header_id|>\n\n' + message.content | trim + '<|eot_id|>' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}{%- endif -%}`,

	// Llama 2 chat: <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] …
	"llama2": `{%- if messages and messages[0].role == 'system' -%}
{%- set system = '<<SYS>>\n' + messages[0].content | trim + '\n<</SYS>>\n\n' -%}
{%- set messages = messages[1:] -%}
{%- else -%}{%- set system = '' -%}{%- endif -%}
{%- for message in messages -%}
{%- if message.role == 'user' -%}
{{- bos_token + '[INST] ' + (system if loop.first else '') + message.content | trim + ' [/INST]' -}}
{%- elif message.role == 'assistant' -%}
{{- ' ' + message.content | trim + ' ' + eos_token -}}
{%- endif -%}
{%- endfor -%}`,

	// Mistral Instruct: <s>[INST] {user} [/INST]{assistant}</s>[INST] … ;
	// a system message goes in front of the first instruction.
	"mistral": `{%- if messages and messages[0].role == 'system' -%}
{%- set system = messages[0].content + '\n\n' -%}
{%- set messages = messages[1:] -%}
{%- else -%}{%- set system = '' -%}{%- endif -%}
{{- bos_token -}}
{%- for message in messages -%}
{%- if message.role == 'user' -%}
{{- '[INST] ' + (system if loop.first else '') + message.content + ' [/INST]' -}}
{%- elif message.role == 'assistant' -%}
{{- message.content + eos_token -}}
{%- endif -%}
{%- endfor -%}`,

	// DeepSeek LLM chat (and V2): <｜begin▁of▁sentence｜>{system}\n\nUser: {user}\n\nAssistant: {assistant}<｜end▁of▁sentence｜> …
	"deepseek": `{{- bos_token -}}
{%- for message in messages -%}
{%- if message.role == 'system' -%}{{- message.content + '\n\n' -}}
{%- elif message.role == 'user' -%}{{- 'User: ' + message.content + '\n\n' -}}
{%- elif message.role == 'assistant' -%}{{- 'Assistant: ' + message.content + eos_token -}}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- 'Assistant:' -}}{%- endif -%}`,
}
