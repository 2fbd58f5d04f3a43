package prompt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// Example is one worked example for few-shot prompting.
type Example struct {
	Input  string `json:"input"`
	Output string `json:"output"`
}

// ExampleSource supplies the pool of examples a selector picks from; it is
// called on every selection, so a store can serve its current examples
// (a store method value fits). Use Fixed for a slice, such as the result
// of LoadExamples.
type ExampleSource func(ctx context.Context) ([]Example, error)

// Fixed is a source that always returns examples.
func Fixed(examples []Example) ExampleSource {
	examples = slices.Clone(examples)
	return func(context.Context) ([]Example, error) { return examples, nil }
}

// LoadExamples reads examples from a JSONL file or a JSON array (see
// ReadExamples).
func LoadExamples(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("prompt: examples: %w", err)
	}
	defer f.Close()
	return ReadExamples(f, path)
}

// exampleRecord holds every field name ReadExamples accepts.
type exampleRecord struct {
	Input       *string `json:"input"`
	Output      *string `json:"output"`
	Instruction *string `json:"instruction"`
	Response    *string `json:"response"`
	Question    *string `json:"question"`
	Answer      *string `json:"answer"`
	Prompt      *string `json:"prompt"`
	Completion  *string `json:"completion"`
}

// ReadExamples reads examples from JSONL, one object per line (blank lines
// are skipped), or from a JSON array of objects. Each object gives
// input/output, instruction/response, question/answer or
// prompt/completion; an alpaca record (instruction, input, output) becomes
// the instruction, a blank line and the input. name is used in errors,
// which give the line.
func ReadExamples(r io.Reader, name string) ([]Example, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("prompt: %s: %w", name, err)
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		return readExampleArray(data, name)
	}
	var out []Example
	for i, line := range bytes.Split(data, []byte("\n")) {
		if line = bytes.TrimSpace(line); len(line) == 0 {
			continue
		}
		ex, err := parseExample(line)
		if err != nil {
			return nil, fmt.Errorf("prompt: %s:%d: %w", name, i+1, err)
		}
		out = append(out, ex)
	}
	return out, nil
}

// readExampleArray reads a JSON array of example objects.
func readExampleArray(data []byte, name string) ([]Example, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	lineAt := func(offset int64) int { return 1 + bytes.Count(data[:offset], []byte("\n")) }
	if _, err := dec.Token(); err != nil { // the '['
		return nil, fmt.Errorf("prompt: %s:%d: %w", name, lineAt(dec.InputOffset()), err)
	}
	var out []Example
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("prompt: %s:%d: bad JSON: %w", name, lineAt(dec.InputOffset()), err)
		}
		ex, err := parseExample(raw)
		if err != nil {
			return nil, fmt.Errorf("prompt: %s:%d: record %d: %w", name, lineAt(dec.InputOffset()-int64(len(raw))), len(out)+1, err)
		}
		out = append(out, ex)
	}
	if _, err := dec.Token(); err != nil { // the ']'
		return nil, fmt.Errorf("prompt: %s:%d: %w", name, lineAt(dec.InputOffset()), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("prompt: %s:%d: text after the array", name, lineAt(dec.InputOffset()))
	}
	return out, nil
}

func parseExample(line []byte) (Example, error) {
	if line[0] != '{' {
		return Example{}, fmt.Errorf("want a JSON object per line, got %q", clip(string(line)))
	}
	var rec exampleRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return Example{}, fmt.Errorf("bad JSON: %v", err)
	}
	input := first(rec.Input, rec.Question, rec.Prompt)
	if rec.Instruction != nil {
		s := *rec.Instruction
		if input != nil {
			s = joinNonEmpty(s, *input)
		}
		input = &s
	}
	output := first(rec.Output, rec.Response, rec.Answer, rec.Completion)
	switch {
	case input == nil:
		return Example{}, errors.New("no input: give input, instruction, question or prompt")
	case output == nil:
		return Example{}, errors.New("no output: give output, response, answer or completion")
	}
	return Example{Input: *input, Output: *output}, nil
}

// first returns the first of ps that is set.
func first(ps ...*string) *string {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}
