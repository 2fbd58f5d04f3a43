package dataset

import (
	"fmt"
	"strings"
)

// Format is the layout of each record in a file.
type Format string

// The formats read and written.
const (
	// FormatAlpaca is {"instruction", "input", "output", "system", "history":
	// [[user, assistant], ...]}; preference pairs replace output by "chosen"
	// and "rejected" strings; KTO adds a boolean "label".
	FormatAlpaca Format = "alpaca"
	// FormatShareGPT is {"conversations": [{"from": "human"|"gpt"|"system"|
	// "function_call"|"observation", "value"}], "system", "tools": "<JSON>"};
	// preference pairs add "chosen" and "rejected" messages; KTO a "label".
	FormatShareGPT Format = "sharegpt"
	// FormatMessages is OpenAI's fine-tuning JSONL: {"messages": [{"role",
	// "content", "tool_calls"}], "tools": [...]}; preference pairs are
	// OpenAI's {"input": {"messages"}, "preferred_output": [...],
	// "non_preferred_output": [...]}; KTO adds a boolean "label".
	FormatMessages Format = "messages"
	// FormatDPO is TRL's preference layout {"prompt", "chosen", "rejected"},
	// each a string or a list of {"role", "content"} messages.
	FormatDPO Format = "dpo"
	// FormatKTO is TRL's unpaired preference layout {"prompt", "completion",
	// "label"}, prompt and completion each a string or a list of messages.
	FormatKTO Format = "kto"
)

// Formats lists every format in the order help texts show them.
var Formats = []Format{FormatAlpaca, FormatShareGPT, FormatMessages, FormatDPO, FormatKTO}

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	switch strings.ToLower(s) {
	case "openai", "chatml":
		return FormatMessages, nil
	case "preference", "ranking":
		return FormatDPO, nil
	}
	return "", fmt.Errorf("unknown format %q (want %s)", s, formatList())
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Schema names the keys of a record, as a LLaMA-Factory dataset_info.json
// entry does: the formatting ("alpaca" or "sharegpt"), whether records are
// preference pairs, and which column and tag names the file uses. Empty
// names take LLaMA-Factory's defaults.
type Schema struct {
	Formatting string  `json:"formatting,omitempty"`
	Ranking    bool    `json:"ranking,omitempty"`
	Columns    Columns `json:"columns"`
	Tags       Tags    `json:"tags"`
}

// Columns maps the parts of an example to record keys.
type Columns struct {
	Prompt   string `json:"prompt,omitempty"`   // alpaca: the instruction
	Query    string `json:"query,omitempty"`    // alpaca: the input appended to the instruction
	Response string `json:"response,omitempty"` // alpaca: the answer
	History  string `json:"history,omitempty"`  // alpaca: earlier [user, assistant] pairs
	Messages string `json:"messages,omitempty"` // sharegpt: the conversation
	System   string `json:"system,omitempty"`
	Tools    string `json:"tools,omitempty"`
	Chosen   string `json:"chosen,omitempty"`
	Rejected string `json:"rejected,omitempty"`
	KTOTag   string `json:"kto_tag,omitempty"`
}

// Tags names the keys and role values of sharegpt messages.
type Tags struct {
	Role        string `json:"role_tag,omitempty"`
	Content     string `json:"content_tag,omitempty"`
	User        string `json:"user_tag,omitempty"`
	Assistant   string `json:"assistant_tag,omitempty"`
	Observation string `json:"observation_tag,omitempty"`
	Function    string `json:"function_tag,omitempty"`
	System      string `json:"system_tag,omitempty"`
}

func (c Columns) isZero() bool { return c == Columns{} }
func (t Tags) isZero() bool    { return t == Tags{} }

// withDefaults fills the empty names with LLaMA-Factory's defaults.
func (s Schema) withDefaults() Schema {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	if s.Formatting == "" {
		s.Formatting = "alpaca"
	}
	c := &s.Columns
	if s.Formatting == "alpaca" {
		def(&c.Prompt, "instruction")
		def(&c.Query, "input")
		def(&c.Response, "output")
	} else {
		def(&c.Messages, "conversations")
	}
	t := &s.Tags
	def(&t.Role, "from")
	def(&t.Content, "value")
	def(&t.User, "human")
	def(&t.Assistant, "gpt")
	def(&t.Observation, "observation")
	def(&t.Function, "function_call")
	def(&t.System, "system")
	return s
}

// openAITags are the tags of OpenAI-style messages.
var openAITags = Tags{Role: "role", Content: "content", User: "user", Assistant: "assistant",
	Observation: "tool", Function: "function_call", System: "system"}

// defaultSchema is how a format's records are read when no dataset_info.json
// entry says otherwise.
func defaultSchema(f Format) Schema {
	switch f {
	case FormatShareGPT:
		return Schema{Formatting: "sharegpt", Columns: Columns{Messages: "conversations",
			System: "system", Tools: "tools", Chosen: "chosen", Rejected: "rejected", KTOTag: "label"}}.withDefaults()
	case FormatMessages:
		return Schema{Formatting: "sharegpt", Columns: Columns{Messages: "messages",
			System: "system", Tools: "tools", KTOTag: "label"}, Tags: openAITags}.withDefaults()
	}
	return Schema{Formatting: "alpaca", Columns: Columns{History: "history", System: "system",
		Tools: "tools", Chosen: "chosen", Rejected: "rejected", KTOTag: "label"}}.withDefaults()
}

// detectFormat tells the format of a record from its keys.
func detectFormat(obj []member) (Format, Schema, error) {
	has := func(k string) bool { return lookup(obj, k) != nil }
	switch {
	case has("conversations"):
		return conversationFormat(obj, "conversations")
	case has("messages"):
		return conversationFormat(obj, "messages")
	case has("input") && (has("preferred_output") || has("non_preferred_output")):
		return FormatMessages, defaultSchema(FormatMessages), nil
	case has("instruction"):
		return FormatAlpaca, defaultSchema(FormatAlpaca), nil
	case has("prompt") && (has("chosen") || has("rejected")):
		return FormatDPO, Schema{}, nil
	case has("prompt") && has("completion"):
		return FormatKTO, Schema{}, nil
	}
	keys := make([]string, len(obj))
	for i, m := range obj {
		keys[i] = m.key
	}
	return "", Schema{}, fmt.Errorf("cannot tell the format from the keys %q: pass the format (%s) or a dataset_info.json entry", keys, formatList())
}

// conversationFormat tells sharegpt ("from"/"value") from OpenAI-style
// ("role"/"content") messages by the first message's keys.
func conversationFormat(obj []member, column string) (Format, Schema, error) {
	f := FormatShareGPT
	if msgs, err := parseArray(lookup(obj, column).val); err == nil && len(msgs) > 0 {
		if first, err := parseObject(msgs[0].val); err == nil && lookup(first, "from") == nil && lookup(first, "role") != nil {
			f = FormatMessages
		}
	} else if column == "messages" {
		f = FormatMessages
	}
	s := defaultSchema(f)
	s.Columns.Messages = column
	if f == FormatShareGPT {
		s.Columns.Chosen, s.Columns.Rejected = "chosen", "rejected"
	}
	return f, s, nil
}

// formatOfSchema is the format a dataset_info.json entry describes.
func formatOfSchema(s Schema) Format {
	if s.Formatting == "sharegpt" {
		if s.Tags.Role == "role" {
			return FormatMessages
		}
		return FormatShareGPT
	}
	return FormatAlpaca
}

func lookup(obj []member, key string) *member {
	if key == "" {
		return nil
	}
	for i := range obj {
		if obj[i].key == key {
			return &obj[i]
		}
	}
	return nil
}
