package index

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"flywheel/internal/chunk"
	"flywheel/internal/eval"
)

func TestPorterStem(t *testing.T) {
	tests := map[string]string{
		"caresses": "caress", "ponies": "poni", "ties": "ti", "caress": "caress", "cats": "cat",
		"feed": "feed", "agreed": "agre", "plastered": "plaster", "bled": "bled", "motoring": "motor",
		"sing": "sing", "conflated": "conflat", "troubled": "troubl", "sized": "size", "hopping": "hop",
		"tanned": "tan", "falling": "fall", "hissing": "hiss", "fizzed": "fizz", "failing": "fail",
		"filing": "file", "happy": "happi", "sky": "sky", "relational": "relat", "conditional": "condit",
		"rational": "ration", "valenci": "valenc", "digitizer": "digit", "conformabli": "conform",
		"radicalli": "radic", "differentli": "differ", "vileli": "vile", "analogousli": "analog",
		"vietnamization": "vietnam", "predication": "predic", "operator": "oper", "feudalism": "feudal",
		"decisiveness": "decis", "hopefulness": "hope", "callousness": "callous", "formaliti": "formal",
		"sensitiviti": "sensit", "sensibiliti": "sensibl", "triplicate": "triplic", "formative": "form",
		"formalize": "formal", "electriciti": "electr", "electrical": "electr", "hopeful": "hope",
		"goodness": "good", "revival": "reviv", "allowance": "allow", "inference": "infer",
		"airliner": "airlin", "gyroscopic": "gyroscop", "adjustable": "adjust", "defensible": "defens",
		"irritant": "irrit", "replacement": "replac", "adjustment": "adjust", "dependent": "depend",
		"adoption": "adopt", "homologou": "homolog", "communism": "commun", "activate": "activ",
		"angulariti": "angular", "homologous": "homolog", "effective": "effect", "bowdlerize": "bowdler",
		"probate": "probat", "rate": "rate", "cease": "ceas", "controll": "control", "roll": "roll",
		"generalization": "gener", "oscillators": "oscil", "is": "is", "a": "a",
	}
	for w, want := range tests {
		if got := porterStem(w); got != want {
			t.Errorf("porterStem(%q) = %q, want %q", w, got, want)
		}
	}
}

// TestPorterAgreesWithEval compares with internal/eval's independent Porter
// stemmer (NLTK's port, Martin's revisions) on the English QA corpus.
func TestPorterAgreesWithEval(t *testing.T) {
	docs := qaDocs(t, "xquad_en")
	ref := eval.NewPorterStemmer(eval.PorterMartin)
	seen := map[string]bool{}
	diff := 0
	for _, d := range docs {
		SimpleAnalyzer.each(d.text, func(b []byte) {
			w := string(b)
			if seen[w] || !isASCIILetters(b) {
				return
			}
			seen[w] = true
			if got, want := porterStem(w), ref.Stem(w); got != want {
				diff++
				if diff <= 10 {
					t.Logf("%q: ours %q, eval %q", w, got, want)
				}
			}
		})
	}
	if diff*200 > len(seen) {
		t.Errorf("%d of %d words stem differently (more than 0.5%%)", diff, len(seen))
	}
}

func TestAnalyzer(t *testing.T) {
	tests := []struct {
		a    Analyzer
		text string
		want []string
	}{
		{SimpleAnalyzer, "The Panthers' defense, NFL's 5-time", []string{"the", "panthers", "defense", "nfl", "s", "5", "time"}},
		{StandardAnalyzer, "The Panthers' defense, NFL's 5-time", []string{"panther", "defens", "nfl", "5", "time"}},
		{StandardAnalyzer, "战国无双3", []string{"战", "战国", "国", "国无", "无", "无双", "双", "3"}},
		{BigramAnalyzer, "光荣和ω-force开发", []string{"光荣", "荣和", "ω", "forc", "开发"}},
		{UnigramAnalyzer, "《开发》", []string{"开", "发"}},
		{StandardAnalyzer, "Café naïve", []string{"café", "naïve"}},
	}
	for _, tt := range tests {
		if got := tt.a.Terms(tt.text); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s(%q) = %q, want %q", tt.a.Name, tt.text, got, tt.want)
		}
	}
}

// TestBM25Scores checks scores against the formula computed by hand.
func TestBM25Scores(t *testing.T) {
	x := NewBM25(BM25Config{K1: 1.2, B: 0.75, Analyzer: SimpleAnalyzer})
	x.Add(chunk.Chunk{ID: "a", Text: "apple banana apple"},
		chunk.Chunk{ID: "b", Text: "banana cherry"},
		chunk.Chunk{ID: "c", Text: "cherry date elder fig"})
	// N 3, avgdl 3; "apple": df 1, idf ln(1+2.5/1.5); in a tf 2, |a| 3.
	idf := math.Log(1 + 2.5/1.5)
	want := idf * 2 * 2.2 / (2 + 1.2)
	hits := x.Search("apple", 10, nil)
	if len(hits) != 1 || hits[0].ChunkID != "a" || math.Abs(hits[0].Score-want) > 1e-12 {
		t.Fatalf("hits %+v, want a %.6f", hits, want)
	}
	// "banana cherry": b holds both, a and c one each.
	hits = x.Search("banana cherry", 10, nil)
	if ids := hitIDs(hits); !reflect.DeepEqual(ids, []string{"b", "a", "c"}) {
		t.Fatalf("order %v", ids)
	}
	e, ok := x.Explain("banana cherry", "b")
	sum := 0.0
	for _, ts := range e.Terms {
		sum += ts.Score
	}
	if !ok || len(e.Terms) != 2 || math.Abs(sum-hits[0].Score) > 1e-12 || e.Length != 2 || e.AvgLen != 3 {
		t.Fatalf("explanation %+v does not add up to %g", e, hits[0].Score)
	}
	if got := hitIDs(x.Search("banana cherry", 10, func(id string) bool { return id != "b" })); !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Fatalf("filtered %v", got)
	}
}

func hitIDs(hits []BM25Hit) []string {
	var ids []string
	for _, h := range hits {
		ids = append(ids, h.ChunkID)
	}
	return ids
}

// TestIncrementalEqualsRebuild: adds, replacements and deletes leave the
// same scores as an index built from the survivors.
func TestIncrementalEqualsRebuild(t *testing.T) {
	docs := qaDocs(t, "xquad_en")[:80]
	inc := NewBM25(BM25Config{})
	for _, d := range docs {
		inc.Add(chunk.Chunk{ID: d.id, Text: d.text})
	}
	for i := 0; i < len(docs); i += 3 {
		inc.Delete(docs[i].id)
	}
	inc.Add(chunk.Chunk{ID: docs[1].id, Text: docs[1].text}) // replace in place
	fresh := NewBM25(BM25Config{})
	for i, d := range docs {
		if i%3 != 0 {
			fresh.Add(chunk.Chunk{ID: d.id, Text: d.text})
		}
	}
	var buf bytes.Buffer
	if _, err := inc.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := ReadBM25(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"Super Bowl defense", "Panthers sacks", "university research funding", "zzz"} {
		want := fresh.Search(q, 10, nil)
		for name, x := range map[string]*BM25{"incremental": inc, "reloaded": loaded} {
			got := x.Search(q, 10, nil)
			if len(got) != len(want) {
				t.Fatalf("%s %q: %d hits, want %d", name, q, len(got), len(want))
			}
			for i := range got {
				if got[i].ChunkID != want[i].ChunkID && math.Abs(got[i].Score-want[i].Score) > 1e-9 ||
					math.Abs(got[i].Score-want[i].Score) > 1e-9 {
					t.Fatalf("%s %q hit %d: %+v, want %+v", name, q, i, got[i], want[i])
				}
			}
		}
	}
}

func TestCompaction(t *testing.T) {
	x := NewBM25(BM25Config{})
	for i := range 3000 {
		x.Add(chunk.Chunk{ID: fmt.Sprint(i), Text: fmt.Sprintf("word%d common", i%7)})
	}
	want := x.Search("word3", 5, nil)
	var gone []string
	for i := range 3000 {
		if i%7 != 3 {
			gone = append(gone, fmt.Sprint(i))
		}
	}
	x.Delete(gone...)
	if len(x.slots) != x.Len() || x.Len() != 429 {
		t.Fatalf("%d slots for %d chunks after deleting most", len(x.slots), x.Len())
	}
	got := x.Search("word3", 5, nil)
	if len(got) != 5 || got[0].ChunkID != want[0].ChunkID {
		t.Fatalf("after compaction %+v, before %+v", got, want)
	}
}

func TestBM25File(t *testing.T) {
	x := NewBM25(BM25Config{K1: 1.5, B: 0.6, Analyzer: BigramAnalyzer})
	x.Generation = 42
	x.Add(chunk.Chunk{ID: "a", Text: "今天下雨 rain"}, chunk.Chunk{ID: "b", Text: "sunny 晴天"})
	path := filepath.Join(t.TempDir(), "bm25.idx")
	if err := SaveBM25(path, x); err != nil {
		t.Fatal(err)
	}
	y, err := LoadBM25(path)
	if err != nil {
		t.Fatal(err)
	}
	if y.Generation != 42 || y.Config().K1 != 1.5 || y.Config().B != 0.6 || y.Config().Analyzer != BigramAnalyzer || y.Len() != 2 {
		t.Fatalf("loaded %+v gen %d len %d", y.Config(), y.Generation, y.Len())
	}
	if !reflect.DeepEqual(x.Search("下雨", 5, nil), y.Search("下雨", 5, nil)) {
		t.Fatal("loaded index ranks differently")
	}
	data, _ := os.ReadFile(path)
	for _, bad := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bad magic"},
		{"magic", append([]byte("XXBM25\n"), data[7:]...), "bad magic"},
		{"version", append(append([]byte{}, data[:7]...), append([]byte{9}, data[8:]...)...), "version 9"},
		{"flipped byte", flip(data, len(data)/2), "checksum"},
		{"truncated", data[:len(data)-5], "checksum"},
	} {
		_, err := ReadBM25(bad.data)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: got %v, want an error with %q", bad.name, err, bad.want)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 0x40
	return c
}

func FuzzReadBM25(f *testing.F) {
	x := NewBM25(BM25Config{})
	x.Add(chunk.Chunk{ID: "a", Text: "one two two"}, chunk.Chunk{ID: "b", Text: "二三 three"})
	var buf bytes.Buffer
	x.WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(bm25Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The checksum hides most mutations; fuzz the body behind a valid one.
		if len(data) > 4 {
			body := data[:len(data)-4]
			data = bm25Seal(body)
		}
		y, err := ReadBM25(data)
		if err != nil {
			return
		}
		y.Search("one two 二三", 3, nil)
		var out bytes.Buffer
		if _, err := y.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
	})
}

type qaDoc struct{ id, text string }

// qaDocs reads a shared QA set's paragraphs.
func qaDocs(t testing.TB, set string) []qaDoc {
	p := filepath.Join("../../../shared/testdata/qa", set, "docs.jsonl")
	f, err := os.Open(p)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("missing %s", p)
	}
	defer f.Close()
	var docs []qaDoc
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct{ ID, Text string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, qaDoc{r.ID, r.Text})
	}
	return docs
}

// bm25Seal appends the checksum to a file body (for tests).
func bm25Seal(body []byte) []byte {
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc32.Checksum(body, bm25CRC))
	return append(append([]byte{}, body...), sum[:]...)
}
