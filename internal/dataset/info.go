package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DatasetInfo is LLaMA-Factory's dataset_info.json: named datasets, each a
// file with the schema to read it. Entries keep their order, and entries
// that are not changed are written back as they were read.
type DatasetInfo struct {
	Entries []DatasetEntry
}

// DatasetEntry is one dataset of a dataset_info.json.
type DatasetEntry struct {
	Name     string
	FileName string // relative to the dataset_info.json; "" for hub datasets
	Schema
	raw []byte // the entry as read, for the keys flywheel does not use
}

// entryJSON is the part of an entry flywheel reads and writes.
type entryJSON struct {
	FileName   string  `json:"file_name,omitempty"`
	Formatting string  `json:"formatting,omitempty"`
	Ranking    bool    `json:"ranking,omitempty"`
	Columns    Columns `json:"columns"`
	Tags       Tags    `json:"tags"`
}

// ReadDatasetInfo reads a dataset_info.json.
func ReadDatasetInfo(path string) (*DatasetInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := ParseDatasetInfo(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// ParseDatasetInfo reads the bytes of a dataset_info.json.
func ParseDatasetInfo(b []byte) (*DatasetInfo, error) {
	if !json.Valid(b) {
		var v any
		return nil, fmt.Errorf("not valid JSON: %v", json.Unmarshal(b, &v))
	}
	obj, err := parseObject(b)
	if err != nil {
		return nil, err
	}
	d := &DatasetInfo{}
	for _, m := range obj {
		var e entryJSON
		if err := json.Unmarshal(m.val, &e); err != nil {
			return nil, fmt.Errorf("dataset %q: %v", m.key, err)
		}
		d.Entries = append(d.Entries, DatasetEntry{
			Name: m.key, FileName: e.FileName, raw: append([]byte(nil), m.val...),
			Schema: Schema{Formatting: e.Formatting, Ranking: e.Ranking, Columns: e.Columns, Tags: e.Tags},
		})
	}
	return d, nil
}

// Lookup finds a dataset by name.
func (d *DatasetInfo) Lookup(name string) (*DatasetEntry, bool) {
	for i := range d.Entries {
		if d.Entries[i].Name == name {
			return &d.Entries[i], true
		}
	}
	return nil, false
}

// LookupFile finds the dataset whose file_name is fileName (compared as
// cleaned slash paths).
func (d *DatasetInfo) LookupFile(fileName string) (*DatasetEntry, bool) {
	want := filepath.ToSlash(filepath.Clean(fileName))
	for i := range d.Entries {
		if f := d.Entries[i].FileName; f != "" && filepath.ToSlash(filepath.Clean(f)) == want {
			return &d.Entries[i], true
		}
	}
	return nil, false
}

// Set adds the entry, or replaces the one of the same name.
func (d *DatasetInfo) Set(e DatasetEntry) {
	e.raw = nil
	for i := range d.Entries {
		if d.Entries[i].Name == e.Name {
			d.Entries[i] = e
			return
		}
	}
	d.Entries = append(d.Entries, e)
}

// Marshal writes the file as LLaMA-Factory does: an object of entries,
// indented by two spaces.
func (d *DatasetInfo) Marshal() ([]byte, error) {
	var o jsonObject
	o.begin()
	for _, e := range d.Entries {
		raw := e.raw
		if raw == nil {
			var err error
			if raw, err = e.marshal(); err != nil {
				return nil, err
			}
		}
		o.raw(e.Name, compact(raw))
	}
	o.end()
	var b bytes.Buffer
	if err := json.Indent(&b, o.b, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func (e DatasetEntry) marshal() ([]byte, error) {
	var o jsonObject
	o.begin()
	if e.FileName != "" {
		o.str("file_name", e.FileName)
	}
	if e.Formatting != "" && e.Formatting != "alpaca" {
		o.str("formatting", e.Formatting)
	}
	if e.Ranking {
		o.boolean("ranking", true)
	}
	for _, part := range []struct {
		key  string
		zero bool
		v    any
	}{{"columns", e.Columns.isZero(), e.Columns}, {"tags", e.Tags.isZero(), e.Tags}} {
		if part.zero {
			continue
		}
		b, err := json.Marshal(part.v)
		if err != nil {
			return nil, err
		}
		o.raw(part.key, b)
	}
	o.end()
	return o.b, nil
}

// WriteFile writes the file atomically.
func (d *DatasetInfo) WriteFile(path string) error {
	b, err := d.Marshal()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b)
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// ErrNoSchema is returned by SchemaFor when LLaMA-Factory cannot read what was written.
var ErrNoSchema = errors.New("LLaMA-Factory cannot read this file")

// SchemaFor describes, as a dataset_info.json entry, a file written in
// format f with the given summary. LLaMA-Factory reads one kind of example
// per dataset and no OpenAI tool calls or preference layout; those give an
// error wrapping ErrNoSchema that says which format to write instead.
func SchemaFor(f Format, s WriteSummary) (Schema, error) {
	kind, err := singleKind(s)
	if err != nil {
		return Schema{}, err
	}
	pref, kto := kind == KindPreference, kind == KindKTO
	opt := func(used bool, name string) string {
		if used {
			return name
		}
		return ""
	}
	switch f {
	case FormatAlpaca:
		c := Columns{Prompt: "instruction", Query: "input", System: opt(s.System, "system"),
			History: opt(s.History, "history"), Tools: opt(s.Tools, "tools"), KTOTag: opt(kto, "label")}
		if pref {
			c.Chosen, c.Rejected = "chosen", "rejected"
		} else {
			c.Response = "output"
		}
		return Schema{Formatting: "alpaca", Ranking: pref, Columns: c}, nil
	case FormatShareGPT:
		c := Columns{Messages: "conversations", System: opt(s.System, "system"), Tools: opt(s.Tools, "tools"),
			Chosen: opt(pref, "chosen"), Rejected: opt(pref, "rejected"), KTOTag: opt(kto, "label")}
		return Schema{Formatting: "sharegpt", Ranking: pref, Columns: c}, nil
	case FormatMessages:
		if pref || s.FunctionCalls || s.Tools {
			return Schema{}, fmt.Errorf("%w: OpenAI's preference layout and tool calls are not LLaMA-Factory's; write sharegpt", ErrNoSchema)
		}
		t := openAITags
		t.Function, t.Observation = "", ""
		return Schema{Formatting: "sharegpt", Columns: Columns{Messages: "messages", KTOTag: opt(kto, "label")}, Tags: t}, nil
	case FormatDPO, FormatKTO:
		if s.Conversations || s.Tools {
			return Schema{}, fmt.Errorf("%w: TRL's conversational prompts are not LLaMA-Factory's; write sharegpt", ErrNoSchema)
		}
		if f == FormatDPO {
			return Schema{Formatting: "alpaca", Ranking: true, Columns: Columns{Prompt: "prompt", Chosen: "chosen", Rejected: "rejected"}}, nil
		}
		return Schema{Formatting: "alpaca", Columns: Columns{Prompt: "prompt", Response: "completion", KTOTag: "label"}}, nil
	}
	return Schema{}, fmt.Errorf("unknown format %q", f)
}

func singleKind(s WriteSummary) (Kind, error) {
	kind, kinds := KindSFT, 0
	for k, n := range s.Kinds {
		if n > 0 {
			kind = Kind(k)
			kinds++
		}
	}
	if kinds > 1 {
		return 0, fmt.Errorf("%w: the file mixes %d sft, %d preference and %d kto records, and a dataset holds one kind: split it",
			ErrNoSchema, s.Kinds[KindSFT], s.Kinds[KindPreference], s.Kinds[KindKTO])
	}
	return kind, nil
}

// ResolveFile returns the path of an entry's file next to the
// dataset_info.json at infoPath.
func (e *DatasetEntry) ResolveFile(infoPath string) (string, error) {
	if e.FileName == "" {
		return "", fmt.Errorf("dataset %q has no file_name (a hub or script dataset): download it and add its file_name", e.Name)
	}
	return filepath.Join(filepath.Dir(infoPath), filepath.FromSlash(e.FileName)), nil
}
