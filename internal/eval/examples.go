package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"flywheel/internal/dataset"
)

// Example is one item of a test set: what the system is asked and the
// answers it is scored against.
type Example struct {
	ID     string `json:"id"`
	System string `json:"system,omitempty"`
	// History holds the turns before Input, for multi-turn examples.
	History    []dataset.Message `json:"history,omitempty"`
	Input      string            `json:"input"`
	References []string          `json:"references,omitempty"`
	// DocIDs are the documents that hold the answer (retrieval metrics).
	DocIDs []string `json:"doc_ids,omitempty"`
}

// LoadExamples reads a test set (formats in DatasetConfig.Format) and keeps
// the first limit examples (limit 0: all). IDs must be unique; a record
// without one is named after its line.
func LoadExamples(cfg DatasetConfig, limit int) ([]Example, error) {
	format := cfg.Format
	if format == "" {
		f, err := detectFormat(cfg.Path)
		if err != nil {
			return nil, err
		}
		format = f
	}
	var exs []Example
	var err error
	switch format {
	case "qa", "pairs":
		exs, err = readLines(cfg.Path, format, limit)
	default:
		exs, err = readInstructions(cfg.Path, format, limit)
	}
	if err != nil {
		return nil, err
	}
	if len(exs) == 0 {
		return nil, fmt.Errorf("%s: no examples", cfg.Path)
	}
	seen := map[string]bool{}
	for _, ex := range exs {
		if seen[ex.ID] {
			return nil, fmt.Errorf("%s: example id %q appears twice: give each example its own id", cfg.Path, ex.ID)
		}
		seen[ex.ID] = true
	}
	return exs, nil
}

// detectFormat looks at the keys of the first record: "question" is qa,
// "input" with "reference(s)" is pairs, anything else an instruction set.
func detectFormat(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal(line, &keys) != nil {
			return "", nil // not JSON Lines: let the dataset reader say what it is
		}
		_, hasQuestion := keys["question"]
		_, hasInput := keys["input"]
		_, hasRef := keys["reference"]
		_, hasRefs := keys["references"]
		switch {
		case hasQuestion:
			return "qa", nil
		case hasInput && (hasRef || hasRefs):
			return "pairs", nil
		}
		return "", nil
	}
	return "", sc.Err()
}

// qaRecord is a line of a qa or pairs file.
type qaRecord struct {
	ID         string   `json:"id"`
	Question   string   `json:"question"`
	Answers    []string `json:"answers"`
	DocIDs     []string `json:"doc_ids"`
	System     string   `json:"system"`
	Input      string   `json:"input"`
	Reference  string   `json:"reference"`
	References []string `json:"references"`
}

func readLines(path, format string, limit int) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	var exs []Example
	for line := 1; sc.Scan() && (limit <= 0 || len(exs) < limit); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r qaRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		ex := Example{ID: r.ID, System: r.System, DocIDs: r.DocIDs}
		if format == "qa" {
			ex.Input, ex.References = r.Question, r.Answers
		} else {
			ex.Input, ex.References = r.Input, r.References
			if r.Reference != "" {
				ex.References = append([]string{r.Reference}, ex.References...)
			}
		}
		if ex.Input == "" {
			return nil, fmt.Errorf("%s:%d: empty %s: every example needs one", path, line, map[string]string{"qa": `"question"`, "pairs": `"input"`}[format])
		}
		if ex.ID == "" {
			ex.ID = "line-" + strconv.Itoa(line)
		}
		exs = append(exs, ex)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return exs, nil
}

// readInstructions reads an instruction dataset: each supervised example's
// prompt is the input (its last user turn, earlier turns as history) and
// its last answer the reference.
func readInstructions(path, format string, limit int) ([]Example, error) {
	opt := dataset.ReaderOptions{}
	if format != "" {
		f, err := dataset.ParseFormat(format)
		if err != nil {
			return nil, err
		}
		opt.Format = f
	}
	r, err := dataset.Open(path, opt)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var exs []Example
	for limit <= 0 || len(exs) < limit {
		d, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		ex, err := fromInstruction(d)
		if err != nil {
			return nil, err
		}
		exs = append(exs, ex)
	}
	return exs, nil
}

func fromInstruction(d dataset.Example) (Example, error) {
	if d.Kind() != dataset.KindSFT || len(d.Messages) < 2 {
		return Example{}, fmt.Errorf("%s: evaluation needs a prompt and its reference answer (a supervised example), not a %s example", d.Pos, d.Kind())
	}
	last := d.Messages[len(d.Messages)-1]
	prompt := d.Prompt()
	if len(prompt) == len(d.Messages) || len(prompt) == 0 {
		return Example{}, fmt.Errorf("%s: the example does not end with an answer: evaluation needs a reference answer", d.Pos)
	}
	ex := Example{System: d.System, Input: prompt[len(prompt)-1].Content, References: []string{last.Content}}
	if len(prompt) > 1 {
		ex.History = prompt[:len(prompt)-1]
	}
	if v, ok := d.ExtraValue("id"); ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			ex.ID = s
		} else {
			ex.ID = string(v)
		}
	}
	if ex.ID == "" {
		ex.ID = "record-" + strconv.Itoa(d.Pos.Index+1)
	}
	return ex, nil
}
