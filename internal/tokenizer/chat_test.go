package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// conversation is the fixed conversation of the chat-template tests.
var conversation = []Message{
	{"system", "You are a helpful assistant."},
	{"user", "Hello!"},
	{"assistant", "Hi! How can I help?"},
	{"user", "What is 2+2?"},
}

// TestBuiltinTemplates checks each built-in family against the prompt
// format its model card documents, for the fixed conversation with a
// generation prompt.
func TestBuiltinTemplates(t *testing.T) {
	cases := []struct {
		family, bos, eos, want string
	}{
		// Qwen2 / ChatML model cards.
		{"chatml", "", "<|im_end|>", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\nHi! How can I help?<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"},
		// Meta Llama 3 model card: "Prompt format".
		{"llama3", "<|begin_of_text|>", "<|eot_id|>", "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
		// Llama 2 chat: <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {answer} </s><s>[INST] {user} [/INST]
		{"llama2", "<s>", "</s>", "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHello! [/INST] Hi! How can I help? </s><s>[INST] What is 2+2? [/INST]"},
		// Mistral 7B Instruct: <s>[INST] {instruction} [/INST]{answer}</s>[INST] {follow-up} [/INST]
		{"mistral", "<s>", "</s>", "<s>[INST] You are a helpful assistant.\n\nHello! [/INST]Hi! How can I help?</s>[INST] What is 2+2? [/INST]"},
		// DeepSeek LLM chat: User: {user}\n\nAssistant: {answer}<｜end▁of▁sentence｜>User: …\n\nAssistant:
		{"deepseek", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜begin▁of▁sentence｜>You are a helpful assistant.\n\nUser: Hello!\n\nAssistant: Hi! How can I help?<｜end▁of▁sentence｜>User: What is 2+2?\n\nAssistant:"},
	}
	if len(cases) != len(BuiltinFamilies()) {
		t.Errorf("%d cases for %d built-in families %v", len(cases), len(BuiltinFamilies()), BuiltinFamilies())
	}
	for _, c := range cases {
		tpl, err := BuiltinTemplate(c.family, c.bos, c.eos)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tpl.Render(conversation, true)
		if err != nil {
			t.Fatalf("%s: %v", c.family, err)
		}
		if got != c.want {
			t.Errorf("%s:\n got  %q\n want %q", c.family, got, c.want)
		}
		if f := DetectFamily(tpl.Source()); f != c.family {
			t.Errorf("DetectFamily(built-in %s) = %q", c.family, f)
		}
		checkSegments(t, tpl, c.family)
	}
	if _, err := BuiltinTemplate("vicuna", "", ""); err == nil || !strings.Contains(err.Error(), "built-in: chatml, deepseek, llama2, llama3, mistral") {
		t.Errorf("unknown family: err = %v", err)
	}
}

// checkSegments checks that the training segments of the conversation plus
// an answer concatenate to the full rendering and that exactly the
// assistant turns are marked for training.
func checkSegments(t *testing.T, tpl *Template, name string) {
	t.Helper()
	msgs := append(slices.Clone(conversation), Message{"assistant", "4"})
	segs, err := tpl.Segments(msgs)
	if err != nil {
		t.Fatalf("%s: Segments: %v", name, err)
	}
	full, _ := tpl.Render(msgs, false)
	var joined strings.Builder
	var trained []string
	for _, s := range segs {
		joined.WriteString(s.Text)
		if s.Train {
			trained = append(trained, s.Text)
		}
	}
	if joined.String() != full {
		t.Errorf("%s: segments join to %q, want %q", name, joined.String(), full)
	}
	if len(trained) != 2 || !strings.Contains(trained[0], "Hi! How can I help?") || !strings.HasPrefix(strings.TrimSpace(trained[1]), "4") {
		t.Errorf("%s: trained segments %q, want the two answers", name, trained)
	}
}

// Published chat templates, copied from the models' tokenizer_config.json.
const (
	qwen2Template  = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
	llama3Template = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)

// byteLevelDir writes a small byte-level tokenizer.json (the 256 byte
// characters, a few merges and the given special tokens) and a
// tokenizer_config.json with the chat template into a new directory.
func byteLevelDir(t *testing.T, template, bos, eos string, specials ...string) string {
	t.Helper()
	vocab := map[string]int{}
	for b := range 256 {
		vocab[byteChar[b]] = b
	}
	var added []string
	for i, s := range specials {
		vocab[s] = 256 + i
		added = append(added, fmt.Sprintf(`{"id": %d, "content": %q, "special": true}`, 256+i, s))
	}
	vocabJSON, _ := jsonString(vocab)
	tj := fmt.Sprintf(`{"added_tokens": [%s], "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
		"decoder": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": %s, "merges": []}}`, strings.Join(added, ","), vocabJSON)
	tplJSON, _ := jsonString(template)
	cfg := fmt.Sprintf(`{"bos_token": %q, "eos_token": %q, "chat_template": %s}`, bos, eos, tplJSON)
	dir := t.TempDir()
	for name, content := range map[string]string{"tokenizer.json": tj, "tokenizer_config.json": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestModelTemplates renders published Jinja templates read from a
// tokenizer_config.json.
func TestModelTemplates(t *testing.T) {
	cases := []struct {
		name, template, bos, eos string
		specials                 []string
		msgs                     []Message
		want                     string
	}{
		{"Qwen2", qwen2Template, "", "<|im_end|>", []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}, conversation,
			"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\nHi! How can I help?<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"},
		{"Qwen2 default system", qwen2Template, "", "<|im_end|>", []string{"<|im_start|>", "<|im_end|>"}, conversation[1:2],
			"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n"},
		{"Llama-3", llama3Template, "<|begin_of_text|>", "<|eot_id|>", []string{"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}, conversation,
			"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
	}
	for _, c := range cases {
		tok, err := FromHFDir(byteLevelDir(t, c.template, c.bos, c.eos, c.specials...))
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := tok.ChatTemplate()
		if err != nil {
			t.Fatal(err)
		}
		if tpl.Builtin() != "" || tpl.Source() != c.template {
			t.Errorf("%s: got built-in %q, want the file's template", c.name, tpl.Builtin())
		}
		got, err := tpl.Render(c.msgs, true)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s:\n got  %q\n want %q", c.name, got, c.want)
		}
		// The prompt's special tokens become control tokens, and the text
		// comes back from the ids.
		ids := tok.Encode(got, false, true)
		if got2 := decodeSpecial(tok, ids); got2 != got {
			t.Errorf("%s: ids %v decode to %q", c.name, ids, got2)
		}
		checkSegments(t, tpl, c.name)
	}
}

// decodeSpecial decodes with control tokens written out.
func decodeSpecial(tok *Tokenizer, ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if tok.IsControl(id) {
			b.WriteString(tok.Piece(id))
		} else {
			b.Write(tok.TokenBytes(id))
		}
	}
	return b.String()
}

func TestEncodeSegments(t *testing.T) {
	tok, err := FromHFDir(byteLevelDir(t, qwen2Template, "", "<|im_end|>", "<|im_start|>", "<|im_end|>"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, _ := tok.ChatTemplate()
	segs, err := tpl.Segments(append(slices.Clone(conversation), Message{"assistant", "4"}))
	if err != nil {
		t.Fatal(err)
	}
	ids, train := tok.EncodeSegments(segs)
	if len(ids) != len(train) {
		t.Fatalf("%d ids, %d mask entries", len(ids), len(train))
	}
	var trained strings.Builder
	for i, id := range ids {
		if train[i] {
			if tok.IsControl(id) {
				trained.WriteString(tok.Piece(id))
			} else {
				trained.Write(tok.TokenBytes(id))
			}
		}
	}
	if want := "Hi! How can I help?<|im_end|>\n4<|im_end|>\n"; trained.String() != want {
		t.Errorf("trained text %q, want %q", trained.String(), want)
	}
}

func TestChatTemplateByFamily(t *testing.T) {
	// A vocabulary with ChatML tokens and no template gets the built-in one.
	tok, err := FromHFDir(byteLevelDir(t, "", "", "<|im_end|>", "<|im_start|>", "<|im_end|>"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := tok.ChatTemplate()
	if err != nil || tpl.Builtin() != "chatml" {
		t.Fatalf("ChatTemplate() = %v, %v; want the built-in chatml", tpl, err)
	}
	// One with neither has no template.
	plain := loadGGUFTokenizer(t, llamaSPMVocab)
	if _, err := plain.ChatTemplate(); !errors.Is(err, ErrNoChatTemplate) {
		t.Errorf("LLaMA vocabulary: err = %v, want ErrNoChatTemplate", err)
	}
}

func TestTemplateErrors(t *testing.T) {
	if _, err := NewTemplate("{% for %}", "", ""); err == nil || !strings.Contains(err.Error(), "chat template") {
		t.Errorf("bad syntax: err = %v", err)
	}
	tpl, err := NewTemplate("{{ raise_exception('roles must alternate') }}", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Render(conversation, true); err == nil || !strings.Contains(err.Error(), "roles must alternate") {
		t.Errorf("raise_exception: err = %v", err)
	}
	// A template that moves the system message to the last user turn
	// cannot be cut into prompt and response.
	moving, _ := NewTemplate("{% for m in messages %}{% if m.role != 'system' %}{{ m.content }}{% if loop.last %}{{ messages[0].content }}{% endif %}{% endif %}{% endfor %}", "", "")
	if _, err := moving.Segments(append(slices.Clone(conversation), Message{"assistant", "4"})); err == nil || !strings.Contains(err.Error(), "message 2") {
		t.Errorf("moving template: err = %v", err)
	}
}

func TestDetectFamily(t *testing.T) {
	cases := map[string]string{
		qwen2Template:  "chatml",
		llama3Template: "llama3",
		"{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}": "mistral",
		"{% if messages[0]['role'] == 'system' %}{% set system_message = '<<SYS>>\\n' + messages[0]['content'] | trim + '\\n<</SYS>>\\n\\n' %}{% endif %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}":                                                                                                                                                                                                                                                                             "llama2",
		"{{ 'Assistant: ' + message['content'] + eos_token }}": "deepseek",
		"{{ '<start_of_turn>' + role }}":                       "gemma",
		"plain":                                                "",
	}
	for src, want := range cases {
		if got := DetectFamily(src); got != want {
			t.Errorf("DetectFamily(%.40q) = %q, want %q", src, got, want)
		}
	}
}

// FuzzTemplate feeds arbitrary template text and messages: compiling and
// rendering must never panic.
func FuzzTemplate(f *testing.F) {
	for _, src := range builtinTemplates {
		f.Add(src, "hello")
	}
	f.Add(qwen2Template, "x")
	f.Add(llama3Template, "{{ }}")
	f.Add("{% for m in messages %}{{ m.content[::-1] }}{% endfor %}", "abc")
	f.Fuzz(func(t *testing.T, src, content string) {
		tpl, err := NewTemplate(src, "<s>", "</s>")
		if err != nil {
			return
		}
		_, _ = tpl.Render([]Message{{"user", content}, {"assistant", content}}, true)
	})
}
