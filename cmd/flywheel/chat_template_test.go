package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeChatFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const chatMessages = `[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hello!"}]`

func TestChatTemplate(t *testing.T) {
	dir := t.TempDir()
	msgs := writeChatFile(t, dir, "msgs.json", chatMessages)
	// A Hugging Face directory whose tokenizer_config.json carries the
	// model's (Qwen2) template.
	model := filepath.Join(dir, "model")
	if err := os.Mkdir(model, 0o755); err != nil {
		t.Fatal(err)
	}
	writeChatFile(t, model, "tokenizer.json", `{"added_tokens": [{"id": 3, "content": "<|im_start|>", "special": true}, {"id": 4, "content": "<|im_end|>", "special": true}],
		"pre_tokenizer": {"type": "ByteLevel", "use_regex": true}, "decoder": {"type": "ByteLevel"},
		"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2}, "merges": []}}`)
	writeChatFile(t, model, "tokenizer_config.json", `{"eos_token": "<|im_end|>", "chat_template": "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"}`)
	want := "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n"
	out, stderr, err := flywheel(t, "chat-template", "--model", model, "--messages", msgs)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if out != want+"<|im_start|>assistant\n" {
		t.Errorf("got %q", out)
	}
	out, _, err = flywheel(t, "chat-template", "--model", model, "--messages", msgs, "--no-generation-prompt")
	if err != nil || out != want {
		t.Errorf("--no-generation-prompt: got %q, %v", out, err)
	}

	// A vocabulary-only GGUF with no template: a built-in one by name.
	spm := sharedData(t, "tokenizer/ggml-vocab-llama-spm.gguf")
	out, _, err = flywheel(t, "chat-template", "--model", spm, "--messages", msgs, "--template", "llama2")
	if err != nil || out != "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHello! [/INST]" {
		t.Errorf("--template llama2: got %q, %v", out, err)
	}
	_, _, err = flywheel(t, "chat-template", "--model", spm, "--messages", msgs)
	if err == nil || !strings.Contains(err.Error(), "no chat template") || !strings.Contains(err.Error(), "--template") {
		t.Errorf("no template: err = %v", err)
	}
}

func TestChatTemplateErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeChatFile(t, dir, "bad.json", `{"role": 1}`)
	noRole := writeChatFile(t, dir, "norole.json", `[{"content": "x"}]`)
	spm := sharedData(t, "tokenizer/ggml-vocab-llama-spm.gguf")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"chat-template", "--model", spm}, "--model and --messages are required"},
		{[]string{"chat-template", "--model", spm, "--messages", bad}, "want a JSON list"},
		{[]string{"chat-template", "--model", spm, "--messages", noRole}, "message 0 has no role"},
		{[]string{"chat-template", "--model", spm, "--messages", noRole, "--template", "nope"}, "message 0 has no role"},
	}
	for _, c := range cases {
		_, _, err := flywheel(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.args, err, c.want)
		}
	}
	msgs := writeChatFile(t, dir, "msgs.json", chatMessages)
	if _, _, err := flywheel(t, "chat-template", "--model", spm, "--messages", msgs, "--template", "nope"); err == nil || !strings.Contains(err.Error(), `no built-in template "nope"`) {
		t.Errorf("unknown built-in: err = %v", err)
	}
}
