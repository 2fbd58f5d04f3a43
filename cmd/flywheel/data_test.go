package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"flywheel/internal/dataset"
)

// dataFile writes a data file in a temporary directory.
func dataFile(t *testing.T, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readAll(t *testing.T, path string) []dataset.Example {
	t.Helper()
	exs, _, err := dataset.ReadAll(path, dataset.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return exs
}

func TestDataValidate(t *testing.T) {
	f := dataFile(t, "f.jsonl",
		`{"instruction": "a", "output": "b"}`,
		`{"instruction": "a"}`,
		`{"instruction": "c", "output": "d", "history": [["x"]]}`,
		`{"instruction": "e", "output": "f"}`)
	out, _, err := flywheel(t, "data", "validate", f)
	if err == nil || exitCode(err) != 1 {
		t.Errorf("error %v, want exit 1", err)
	}
	want := f + ":2: record 1: output: missing: the answer (output) is required\n" +
		f + ":3: record 2: history[0]: want a [user, assistant] pair of strings\n" +
		"4 records: 2 valid, 2 invalid (1 files)\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	good := filepath.Join(t.TempDir(), "good.json")
	if _, _, err := flywheel(t, "data", "validate", "--skip-invalid", "-o", good, "--to", "sharegpt", f); err != nil {
		t.Fatal(err)
	}
	if exs := readAll(t, good); len(exs) != 2 || exs[1].Messages[0].Content != "e" {
		t.Errorf("good records: %+v", exs)
	}
	out, _, _ = flywheel(t, "data", "validate", "--json", f)
	var r struct {
		Records, Valid int
		Invalid        []invalidJSON
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Records != 4 || r.Valid != 2 || len(r.Invalid) != 2 || r.Invalid[1] != (invalidJSON{File: f, Line: 3, Record: 2, Field: "history[0]", Reason: "want a [user, assistant] pair of strings"}) {
		t.Errorf("json report %+v", r)
	}
}

// TestDataConvertDemo converts a LLaMA-Factory demo set to OpenAI messages
// and back, registers the result in a dataset_info.json and reads it
// through that entry.
func TestDataConvertDemo(t *testing.T) {
	src := sharedData(t, "sft/glaive_toolcall_en_demo.json")
	dir := t.TempDir()
	msgs := filepath.Join(dir, "glaive.jsonl.gz")
	back := filepath.Join(dir, "glaive.json")
	if _, _, err := flywheel(t, "data", "convert", src, "--to", "messages", "-o", msgs); err != nil {
		t.Fatal(err)
	}
	out, _, err := flywheel(t, "data", "convert", msgs, "--to", "sharegpt", "-o", back, "--register", "glaive")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "converted 300 records (messages) to 300 sharegpt records") {
		t.Errorf("report %q", out)
	}
	info, err := dataset.ReadDatasetInfo(filepath.Join(dir, "dataset_info.json"))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := info.Lookup("glaive")
	if !ok || e.FileName != "glaive.json" || e.Formatting != "sharegpt" || e.Columns.Tools != "tools" {
		t.Fatalf("entry %+v", e)
	}
	want, got := readAll(t, src), readAll(t, back)
	for i := range want {
		if !reflect.DeepEqual(want[i].Messages[0], got[i].Messages[0]) || len(want[i].Messages) != len(got[i].Messages) {
			t.Fatalf("record %d differs", i)
		}
	}
	// the dataset_info.json stands for its datasets
	out, _, err = flywheel(t, "data", "stats", filepath.Join(dir, "dataset_info.json"))
	if err != nil || !strings.Contains(out, "records     300 (sharegpt)") || !strings.Contains(out, "tools 300, function calls") {
		t.Errorf("stats: %v\n%s", err, out)
	}
	// alpaca cannot hold tool calls: the error says where and what to do
	_, _, err = flywheel(t, "data", "convert", src, "--to", "alpaca", "-o", filepath.Join(dir, "x.json"))
	if err == nil || !strings.Contains(err.Error(), "record 0: messages[3]: alpaca holds user and assistant turns only") || !strings.Contains(err.Error(), "--to") {
		t.Errorf("convert to alpaca: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.json")); !os.IsNotExist(err) {
		t.Errorf("a failed conversion left its output: %v", err)
	}
}

func TestDataCleanDedup(t *testing.T) {
	f := dataFile(t, "raw.jsonl",
		`{"instruction": "Mail  me at bob@example.com ", "output": "<p>Sure &amp; thanks</p><p>Bob</p><br>"}`,
		`{"instruction": "Call 13812345678", "output": "OK\u200b"}`,
		`{"instruction": "mail me at bob@example.com", "output": "Sure & thanks\n\nBob"}`,
		`{"instruction": "What is the capital of France?", "output": "Paris."}`)
	clean := filepath.Join(t.TempDir(), "clean.jsonl")
	out, _, err := flywheel(t, "data", "clean", f, "-o", clean)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cleaned 4 records: 3 changed", "html→text 1", "control characters 1", "2 e-mails, 1 phone numbers"} {
		if !strings.Contains(out, want) {
			t.Errorf("clean report lacks %q:\n%s", want, out)
		}
	}
	exs := readAll(t, clean)
	if exs[0].Messages[0].Content != "Mail  me at [EMAIL]" || exs[0].Messages[1].Content != "Sure & thanks\n\nBob" || exs[1].Messages[1].Content != "OK" {
		t.Errorf("cleaned %+v", exs)
	}
	// records to standard output, the report to standard error
	stdout, stderr, err := flywheel(t, "data", "dedup", clean, "--json")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(stdout, "\n"); n != 3 {
		t.Errorf("%d records written, want 3:\n%s", n, stdout)
	}
	var r struct {
		Records, Kept int
		Exact         int               `json:"exact_duplicates"`
		ClusterList   []dataset.Cluster `json:"cluster_list"`
	}
	if err := json.Unmarshal([]byte(stderr), &r); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if r.Records != 4 || r.Kept != 3 || r.Exact != 1 || len(r.ClusterList) != 1 || r.ClusterList[0].Duplicates[0].Pos.Line != 3 {
		t.Errorf("dedup report %+v", r)
	}
	// --against drops records found in a reference set
	ref := dataFile(t, "eval.jsonl", `{"instruction": "What is the capital of France", "output": "Paris"}`)
	stdout, _, err = flywheel(t, "data", "dedup", clean, "--against", ref)
	if err != nil || strings.Contains(stdout, "France") || strings.Count(stdout, "\n") != 2 {
		t.Errorf("--against: %v\n%s", err, stdout)
	}
}

func TestDataFilter(t *testing.T) {
	tok := sharedData(t, "models/stories260K/tok512.bin")
	f := dataFile(t, "in.jsonl",
		`{"instruction": "Tell a story", "output": "Once upon a time there was a girl."}`,
		`{"instruction": "讲个故事", "output": "从前有一个小女孩。"}`,
		`{"instruction": "Tell a story", "output": ""}`,
		`{"instruction": "Tell a long story", "output": "`+strings.Repeat("and then the dog ran to the big red ball ", 20)+`"}`)
	dropped := filepath.Join(t.TempDir(), "dropped.jsonl")
	out, _, err := flywheel(t, "data", "filter", f, "--tokenizer", tok, "--max-tokens", "100", "--lang", "en", "--max-repetition", "1", "--dropped", dropped, "-o", filepath.Join(t.TempDir(), "kept.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"filtered 4 records: 1 kept, 3 dropped", "language         1", "short_answer     1", "too_many_tokens  1", "tok512.bin (llama (SentencePiece BPE), 512 tokens)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if exs := readAll(t, dropped); len(exs) != 3 {
		t.Errorf("%d dropped records written, want 3", len(exs))
	}
}

func TestDataStats(t *testing.T) {
	src := sharedData(t, "sft/kto_en_demo.json")
	svg := filepath.Join(t.TempDir(), "h.svg")
	out, _, err := flywheel(t, "data", "stats", "--json", "--histogram", svg, src)
	if err != nil {
		t.Fatal(err)
	}
	var r dataset.StatsReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Records != 300 || r.Kinds.KTO != 300 || r.KTOLabels.Desirable != 150 || !r.TokensEstimated || len(r.Fields) != 3 {
		t.Errorf("report %+v", r)
	}
	b, err := os.ReadFile(svg)
	if err != nil || !strings.HasPrefix(string(b), "<svg") || !strings.Contains(string(b), "answer: 300 values") {
		t.Errorf("histogram: %v %.200s", err, b)
	}
	out, _, err = flywheel(t, "data", "stats", src)
	if err != nil || !strings.Contains(out, "kinds       sft 0, preference 0, kto 300 (desirable 150, undesirable 150)") {
		t.Errorf("text report: %v\n%s", err, out)
	}
}

func TestDataSplit(t *testing.T) {
	src := sharedData(t, "sft/alpaca_en_demo.json")
	dir := t.TempDir()
	out, _, err := flywheel(t, "data", "split", src, "-o", filepath.Join(dir, "{part}.json"), "--ratios", "0.8,0.1,0.1", "--seed", "7", "--register", "demo", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Records int
		Parts   [3]int
		Groups  int `json:"duplicate_groups"`
		Leakage dataset.LeakageReport
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Records != 999 || r.Parts[0]+r.Parts[1]+r.Parts[2] != 999 || r.Parts[1] < 95 || r.Parts[1] > 105 || r.Groups == 0 {
		t.Errorf("split %+v", r)
	}
	if r.Leakage.Exact != 0 || r.Leakage.Near != 0 || r.Leakage.Checked != 999 {
		t.Errorf("leakage %+v", r.Leakage)
	}
	for p, name := range dataset.SplitParts {
		if n := len(readAll(t, filepath.Join(dir, name+".json"))); n != r.Parts[p] {
			t.Errorf("%s: %d records, report says %d", name, n, r.Parts[p])
		}
	}
	info, err := dataset.ReadDatasetInfo(filepath.Join(dir, "dataset_info.json"))
	if err != nil || len(info.Entries) != 3 || info.Entries[1].Name != "demo_val" {
		t.Errorf("dataset_info.json: %v %+v", err, info)
	}
	// stratified by the KTO label: each label split 50/50
	out, _, err = flywheel(t, "data", "split", sharedData(t, "sft/kto_en_demo.json"), "-o", t.TempDir(), "--ratios", "1,1", "--stratify", "label")
	if err != nil || !strings.Contains(out, `stratum "false": train 75, val 75, test 0`) || !strings.Contains(out, `stratum "true": train 75, val 75, test 0`) {
		t.Errorf("stratified: %v\n%s", err, out)
	}
}

func TestDataMix(t *testing.T) {
	a := dataFile(t, "a.jsonl",
		`{"instruction": "a1", "output": "x"}`, `{"instruction": "a2", "output": "x"}`,
		`{"instruction": "a3", "output": "x"}`, `{"instruction": "a4", "output": "x"}`)
	b := dataFile(t, "b.jsonl", `{"instruction": "b1", "output": "y"}`, `{"instruction": "b2", "output": "y"}`)
	mixed := filepath.Join(t.TempDir(), "mix.jsonl")
	out, _, err := flywheel(t, "data", "mix", a+":1", b+":1", "-n", "8", "--seed", "3", "-o", mixed)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "mixed 8 records") || !strings.Contains(out, "(repeated ×2.00)") {
		t.Errorf("report %s", out)
	}
	count := map[string]int{}
	for _, ex := range readAll(t, mixed) {
		count[ex.Messages[0].Content]++
	}
	if !reflect.DeepEqual(count, map[string]int{"a1": 1, "a2": 1, "a3": 1, "a4": 1, "b1": 2, "b2": 2}) {
		t.Errorf("mix %v", count)
	}
}

func TestDataErrors(t *testing.T) {
	f := dataFile(t, "f.jsonl", `{"instruction": "a", "output": "b"}`)
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"data", "nope"}, `unknown command "nope"`},
		{[]string{"data", "clean"}, "no input"},
		{[]string{"data", "convert", f, "--to", "yaml"}, `unknown format "yaml"`},
		{[]string{"data", "convert", f, "--register", "x"}, "--register needs -o FILE"},
		{[]string{"data", "dedup", f, "--threshold", "2"}, "--threshold 2"},
		{[]string{"data", "split", f}, "-o DIR is required"},
		{[]string{"data", "convert", filepath.Join(t.TempDir(), "missing.json")}, "no such file"},
		{[]string{"data", "stats", "--tokenizer", f, f}, "--tokenizer"},
	} {
		_, _, err := flywheel(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%v: %v, want %q", c.args, err, c.err)
		}
	}
}

// TestDataInfoInputs reads a dataset_info.json given as input: hub
// datasets are skipped with a note, a folder stands for its files, and
// each file is read with its entry's column names.
func TestDataInfoInputs(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "parts"), 0o755)
	os.WriteFile(filepath.Join(dir, "parts", "a.jsonl"), []byte(`{"q": "a", "a": "b"}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "parts", "b.json"), []byte(`[{"q": "c", "a": "d"}]`), 0o644)
	os.WriteFile(filepath.Join(dir, "parts", "notes.txt"), []byte("not data"), 0o644)
	os.WriteFile(filepath.Join(dir, "dataset_info.json"), []byte(`{
  "hub": {"hf_hub_url": "org/set"},
  "parts": {"file_name": "parts", "columns": {"prompt": "q", "response": "a"}}
}`), 0o644)
	out, stderr, err := flywheel(t, "data", "convert", filepath.Join(dir, "dataset_info.json"), "--to", "sharegpt", "-o", filepath.Join(dir, "all.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, `skipping dataset "hub": not a local file`) || !strings.Contains(out, "converted 2 records (alpaca) to 2 sharegpt records") {
		t.Errorf("stdout %q\nstderr %q", out, stderr)
	}
	exs := readAll(t, filepath.Join(dir, "all.jsonl"))
	if len(exs) != 2 || exs[1].Messages[1].Content != "d" {
		t.Errorf("examples %+v", exs)
	}
}
