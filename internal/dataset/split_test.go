package dataset

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// splitSet is 1,000 distinct records (two strata) plus 100 edited copies.
func splitSet() []Example {
	s := newSynth(11)
	var exs []Example
	for i := 0; i < 1000; i++ {
		ex := s.example(300, false)
		ex.Extra = []Field{{"topic", []byte(fmt.Sprintf("%q", []string{"math", "code"}[i%4/3]))}}
		exs = append(exs, ex)
	}
	for i := 0; i < 100; i++ {
		cp := s.editExample(exs[i*7], 0.02, false)
		cp.Extra = exs[i*7].Extra
		exs = append(exs, cp)
	}
	return exs
}

func runSplit(t *testing.T, exs []Example, opt SplitOptions) (SplitPlan, LeakageReport) {
	t.Helper()
	s, err := NewSplitter(opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range exs {
		s.Add(&exs[i])
	}
	plan := s.Plan()
	check := NewLeakageCheck(opt.Dedup)
	for i := range exs {
		check.Add(plan.Part(i), &exs[i])
	}
	return plan, check.Report()
}

func TestSplit(t *testing.T) {
	exs := splitSet()
	opt := SplitOptions{Ratios: [3]float64{0.8, 0.1, 0.1}, Seed: 42, Stratum: func(ex *Example) string {
		v, _ := ex.ExtraValue("topic")
		return string(v)
	}}
	plan, leaks := runSplit(t, exs, opt)
	r := plan.Report
	if r.Records != 1100 || r.Parts[0]+r.Parts[1]+r.Parts[2] != 1100 {
		t.Fatalf("report %+v", r)
	}
	for p, want := range []float64{880, 110, 110} {
		if got := float64(r.Parts[p]); got < want-3 || got > want+3 {
			t.Errorf("%s: %v records, want %v ± 3", SplitParts[p], got, want)
		}
	}
	if r.Groups != 100 || r.GroupedRecords != 200 {
		t.Errorf("%d groups of %d records, want 100 of 200", r.Groups, r.GroupedRecords)
	}
	for i := 0; i < 100; i++ {
		if plan.Part(i*7) != plan.Part(1000+i) {
			t.Errorf("record %d and its copy %d are in different parts", i*7, 1000+i)
		}
	}
	if leaks.Exact != 0 || leaks.Near != 0 || leaks.Checked != 1100 {
		t.Errorf("leakage %+v", leaks)
	}
	if len(r.Strata) != 2 {
		t.Fatalf("strata %+v", r.Strata)
	}
	for _, st := range r.Strata {
		total := st.Parts[0] + st.Parts[1] + st.Parts[2]
		if val := float64(st.Parts[1]) / float64(total); val < 0.09 || val > 0.11 {
			t.Errorf("stratum %s: val share %.3f, want 0.1", st.Value, val)
		}
	}
	again, _ := runSplit(t, exs, opt)
	if !reflect.DeepEqual(plan.parts, again.parts) {
		t.Error("the same seed gave another split")
	}
	opt.Seed = 43
	other, _ := runSplit(t, exs, opt)
	if reflect.DeepEqual(plan.parts, other.parts) {
		t.Error("another seed gave the same split")
	}
}

// TestLeakageCheckFinds shows the check is real: a split that ignores
// groups leaks, and the check counts it.
func TestLeakageCheckFinds(t *testing.T) {
	exs := splitSet()
	check := NewLeakageCheck(DedupOptions{})
	for i := range exs {
		check.Add(i/1000, &exs[i]) // originals in train, their copies in val
	}
	if r := check.Report(); r.Near+r.Exact < 95 {
		t.Errorf("leakage %+v, want about 100 near duplicates", r)
	}
}

func TestSplitRatios(t *testing.T) {
	if _, err := NewSplitter(SplitOptions{Ratios: [3]float64{1, -1, 0}}); err == nil {
		t.Error("negative ratio accepted")
	}
	s, err := NewSplitter(SplitOptions{Ratios: [3]float64{1, 1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	syn := newSynth(5)
	for i := 0; i < 10; i++ {
		ex := syn.example(200, i%2 == 0)
		s.Add(&ex)
	}
	if r := s.Plan().Report; r.Parts != [3]int{5, 5, 0} {
		t.Errorf("parts %v", r.Parts)
	}
}

func TestMix(t *testing.T) {
	p, err := PlanMix([]int{100, 10, 50}, []float64{2, 1, 1}, MixOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// the smallest set limits the total: 10 records at a share of 1/4
	if p.Total != 40 || !reflect.DeepEqual(p.Quotas, []int{20, 10, 10}) {
		t.Errorf("total %d quotas %v", p.Total, p.Quotas)
	}
	counts := make([]int, 3)
	for s := p.Next(); s >= 0; s = p.Next() {
		counts[s]++
	}
	if !reflect.DeepEqual(counts, p.Quotas) {
		t.Errorf("interleaving gave %v", counts)
	}
	p, err = PlanMix([]int{3, 100}, []float64{1, 1}, MixOptions{Total: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	times := 0
	for i := 0; i < 3; i++ {
		n := p.Times(0, i)
		if n < 3 || n > 4 {
			t.Errorf("record %d of the small set taken %d times, want 3 or 4", i, n)
		}
		times += n
	}
	if times != 10 {
		t.Errorf("small set gives %d, want 10", times)
	}
	taken := 0
	for i := 0; i < 100; i++ {
		if n := p.Times(1, i); n > 1 {
			t.Errorf("record %d of the large set taken %d times", i, n)
		} else {
			taken += n
		}
	}
	if taken != 10 {
		t.Errorf("large set gives %d, want 10", taken)
	}
	for _, bad := range []struct {
		counts  []int
		weights []float64
	}{{[]int{1}, []float64{0}}, {[]int{1}, []float64{-1}}, {[]int{0}, []float64{1}}, {[]int{1, 2}, []float64{1}}} {
		if _, err := PlanMix(bad.counts, bad.weights, MixOptions{}); err == nil {
			t.Errorf("%v %v accepted", bad.counts, bad.weights)
		}
	}
}

func TestDatasetInfo(t *testing.T) {
	src := []byte(`{
  "hub_set": {"hf_hub_url": "org/set", "split": "train"},
  "local": {"file_name": "local.json", "formatting": "sharegpt", "columns": {"messages": "conversations"}}
}`)
	d, err := ParseDatasetInfo(src)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := d.LookupFile("./local.json"); !ok || e.Name != "local" || e.Formatting != "sharegpt" || e.Columns.Messages != "conversations" {
		t.Errorf("lookup: %+v %v", e, ok)
	}
	if e, _ := d.Lookup("hub_set"); e.FileName != "" {
		t.Errorf("hub entry has a file: %+v", e)
	} else if _, err := e.ResolveFile("x/dataset_info.json"); err == nil || !strings.Contains(err.Error(), "no file_name") {
		t.Errorf("resolve hub entry: %v", err)
	}
	schema, err := SchemaFor(FormatKTO, WriteSummary{Records: 1, Kinds: [3]int{0, 0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	d.Set(DatasetEntry{Name: "new", FileName: "new.jsonl", Schema: schema})
	out, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "hub_set": {
    "hf_hub_url": "org/set",
    "split": "train"
  },
  "local": {
    "file_name": "local.json",
    "formatting": "sharegpt",
    "columns": {
      "messages": "conversations"
    }
  },
  "new": {
    "file_name": "new.jsonl",
    "columns": {
      "prompt": "prompt",
      "response": "completion",
      "kto_tag": "label"
    }
  }
}
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	path := filepath.Join(t.TempDir(), "dataset_info.json")
	if err := d.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadDatasetInfo(path)
	if err != nil || len(back.Entries) != 3 {
		t.Fatalf("read back: %v %+v", err, back)
	}
	if _, err := SchemaFor(FormatAlpaca, WriteSummary{Kinds: [3]int{1, 1, 0}}); err == nil {
		t.Error("mixed kinds accepted")
	}
	if _, err := SchemaFor(FormatMessages, WriteSummary{Kinds: [3]int{1, 0, 0}, FunctionCalls: true}); err == nil {
		t.Error("OpenAI tool calls accepted")
	}
}

// TestCreateAtomic checks that Create's file appears only on Close and
// vanishes on Abort.
func TestCreateAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json.gz")
	ex := Example{Messages: []Message{{RoleUser, "q"}, {RoleAssistant, "a"}}}
	w, err := Create(path, OptionsForPath(path, FormatShareGPT))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(&ex)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("file exists before Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadAll(path, ReaderOptions{})
	if err != nil || len(got) != 1 {
		t.Fatalf("read back: %v %v", err, got)
	}
	raw, _ := os.ReadFile(path)
	if !bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		t.Error("not gzip")
	}
	w, _ = Create(filepath.Join(dir, "aborted.jsonl"), WriterOptions{Format: FormatShareGPT, JSONL: true})
	w.Write(&ex)
	w.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

// FuzzParseDatasetInfo checks that any bytes parse or fail cleanly, and that
// what parses writes back to something that parses the same.
func FuzzParseDatasetInfo(f *testing.F) {
	f.Add([]byte(`{"a": {"file_name": "a.json", "formatting": "sharegpt", "columns": {"messages": "conversations"}, "tags": {"role_tag": "role"}}}`))
	f.Add([]byte(`{"hub": {"hf_hub_url": "x/y"}, "b": {"file_name": "b.jsonl", "ranking": true}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDatasetInfo(b)
		if err != nil {
			return
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseDatasetInfo(out)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%s", err, out)
		}
		if len(again.Entries) != len(d.Entries) {
			t.Fatalf("%d entries, then %d", len(d.Entries), len(again.Entries))
		}
		for i := range d.Entries {
			a, b := d.Entries[i], again.Entries[i]
			if a.Name != b.Name || a.FileName != b.FileName || a.Schema != b.Schema {
				t.Fatalf("entry %d: %+v, then %+v", i, a, b)
			}
		}
	})
}
