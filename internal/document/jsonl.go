package document

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// JSONLFields name the fields of a JSON Lines record. Empty names mean
// "id", "title" and "text".
type JSONLFields struct {
	ID, Title, Text string
}

func (f JSONLFields) withDefaults() JSONLFields {
	if f.ID == "" {
		f.ID = "id"
	}
	if f.Title == "" {
		f.Title = "title"
	}
	if f.Text == "" {
		f.Text = "text"
	}
	return f
}

// maxJSONLLine bounds one record.
const maxJSONLLine = 64 << 20

// parseJSONL reads one document per non-blank line. The id field (a string
// or a number) is kept as the ID; a record without one gets a content ID.
// Other scalar fields go to Meta.
func parseJSONL(name string, data []byte, opt Options) ([]Document, error) {
	f := opt.JSONL.withDefaults()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxJSONLLine)
	var docs []Document
	seen := map[string]int{}
	for line := 1; sc.Scan(); line++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		d, err := jsonlRecord(name, line, raw, f)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[d.ID]; dup {
			return nil, fmt.Errorf("document: %s:%d: id %q repeats line %d: give each record a distinct %q", name, line, d.ID, first, f.ID)
		}
		seen[d.ID] = line
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("document: %s: %w", name, err)
	}
	return docs, nil
}

func jsonlRecord(name string, line int, raw []byte, f JSONLFields) (Document, error) {
	var rec map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&rec); err != nil {
		return Document{}, fmt.Errorf("document: %s:%d: not a JSON object: %w", name, line, err)
	}
	text, ok := rec[f.Text].(string)
	if !ok {
		return Document{}, fmt.Errorf("document: %s:%d: field %q is missing or not a string: name the text field with the text-field option", name, line, f.Text)
	}
	d := Document{Path: name, Text: text, Meta: map[string]string{"format": "jsonl", "line": strconv.Itoa(line)}}
	d.Title, _ = rec[f.Title].(string)
	switch id := rec[f.ID].(type) {
	case string:
		d.ID = id
	case json.Number:
		d.ID = id.String()
	case nil:
		d.ID = contentID(name, text)
	default:
		return Document{}, fmt.Errorf("document: %s:%d: field %q must be a string or a number", name, line, f.ID)
	}
	if d.ID == "" {
		return Document{}, fmt.Errorf("document: %s:%d: field %q is empty", name, line, f.ID)
	}
	for k, v := range rec {
		if k == f.ID || k == f.Title || k == f.Text {
			continue
		}
		switch v := v.(type) {
		case string:
			d.Meta[k] = v
		case json.Number:
			d.Meta[k] = v.String()
		case bool:
			d.Meta[k] = strconv.FormatBool(v)
		}
	}
	return d, nil
}
