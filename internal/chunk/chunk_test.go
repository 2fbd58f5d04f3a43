package chunk

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"flywheel/internal/document"
)

func TestSplit(t *testing.T) {
	md := "# Guide\n\nIntro text.\n\n## Install\n\nRun the installer. Then reboot.\n\n## Use\n\nOpen it."
	tests := []struct {
		name     string
		doc      document.Document
		cfg      Config
		texts    []string
		headings []string
	}{
		{"short text is one chunk", document.Document{ID: "d", Text: "  Hello world.  "}, Config{},
			[]string{"Hello world."}, []string{""}},
		{"english sentences", document.Document{ID: "d", Text: "Dr. Smith came home. It rained! Was it cold? Yes."},
			Config{Size: 25, Overlap: -1},
			[]string{"Dr. Smith came home.", "It rained! Was it cold?", "Yes."}, []string{"", "", ""}},
		{"chinese sentences", document.Document{ID: "d", Text: "今天下雨。我们在家；看书！你呢？好。"},
			Config{Size: 6, Overlap: -1},
			[]string{"今天下雨。", "我们在家；", "看书！你呢？", "好。"}, []string{"", "", "", ""}},
		{"overlap repeats the last sentence", document.Document{ID: "d", Text: "One ab. Two bc. Three cd. Four de."},
			Config{Size: 20, Overlap: 10},
			[]string{"One ab. Two bc.", "Two bc. Three cd.", "Three cd. Four de."}, []string{"", "", ""}},
		{"numbers are not sentence ends", document.Document{ID: "d", Text: "Pi is 3.14 today. Next."},
			Config{Size: 18, Overlap: -1},
			[]string{"Pi is 3.14 today.", "Next."}, []string{"", ""}},
		{"markdown headings", func() document.Document {
			d, _ := markdownDoc(md)
			return d
		}(), Config{},
			[]string{"# Guide\n\nIntro text.", "## Install\n\nRun the installer. Then reboot.", "## Use\n\nOpen it."},
			[]string{"Guide", "Guide > Install", "Guide > Use"}},
		{"long word falls back to characters", document.Document{ID: "d", Text: "abcdefghij"}, Config{Size: 4, Overlap: -1},
			[]string{"abcd", "efgh", "ij"}, []string{"", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := Split(tt.doc, tt.cfg)
			var texts, heads []string
			for i, c := range chunks {
				texts = append(texts, c.Text)
				heads = append(heads, c.Heading)
				if c.Text != tt.doc.Text[c.Start:c.End] {
					t.Errorf("chunk %d: text %q is not source[%d:%d] = %q", i, c.Text, c.Start, c.End, tt.doc.Text[c.Start:c.End])
				}
				if c.DocID != tt.doc.ID || !strings.HasPrefix(c.ID, tt.doc.ID+"#") {
					t.Errorf("chunk %d: ids %q %q", i, c.ID, c.DocID)
				}
			}
			if !reflect.DeepEqual(texts, tt.texts) {
				t.Errorf("texts\n got %q\nwant %q", texts, tt.texts)
			}
			if !reflect.DeepEqual(heads, tt.headings) {
				t.Errorf("headings\n got %q\nwant %q", heads, tt.headings)
			}
		})
	}
}

func markdownDoc(src string) (document.Document, error) {
	dir, err := os.MkdirTemp("", "chunk")
	if err != nil {
		return document.Document{}, err
	}
	defer os.RemoveAll(dir)
	p := dir + "/g.md"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		return document.Document{}, err
	}
	docs, err := document.LoadFile(p, document.Options{})
	if err != nil {
		return document.Document{}, err
	}
	return docs[0], nil
}

// checkInvariants: offsets map back, sizes fit, and every non-space
// character of the text lies in some chunk.
func checkInvariants(t *testing.T, d document.Document, cfg Config) {
	t.Helper()
	chunks := Split(d, cfg)
	cfg = cfg.withDefaults()
	covered := make([]bool, len(d.Text))
	for i, c := range chunks {
		if c.Start < 0 || c.End > len(d.Text) || c.Start >= c.End || c.Text != d.Text[c.Start:c.End] {
			t.Fatalf("chunk %d [%d,%d) does not map back", i, c.Start, c.End)
		}
		if n := cfg.Length(c.Text); n > cfg.Size {
			t.Fatalf("chunk %d has size %d > %d", i, n, cfg.Size)
		}
		for k := c.Start; k < c.End; k++ {
			covered[k] = true
		}
	}
	for i, r := range d.Text {
		if !covered[i] && !unicode.IsSpace(r) {
			t.Fatalf("character %q at %d is in no chunk", r, i)
		}
	}
}

func TestInvariantsOnQAText(t *testing.T) {
	for _, set := range []string{"xquad_en", "cmrc2018_dev"} {
		p := "../../../shared/testdata/qa/" + set + "/docs.jsonl"
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal(err)
			}
			t.Skipf("missing %s", p)
		}
		docs, err := document.LoadFile(p, document.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs[:60] {
			for _, cfg := range []Config{{Size: 200}, {Size: 50, Overlap: 20}, {Size: 1000}} {
				checkInvariants(t, d, cfg)
			}
		}
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{"Dr. Smith came home. It rained!", "今天下雨。我们在家；看书！", "# A\n\nx\n\n## B\n\ny", "abc\n\n\n\ndef"} {
		f.Add(s, 8, 3)
	}
	f.Fuzz(func(t *testing.T, s string, size, overlap int) {
		if !utf8.ValidString(s) || size <= 0 || size > 64 || overlap > 64 {
			return
		}
		d := document.Document{ID: "f", Text: s}
		checkInvariants(t, d, Config{Size: size, Overlap: overlap})
	})
}

func BenchmarkSplit(b *testing.B) {
	p := "../../../shared/testdata/qa/xquad_en/docs.jsonl"
	docs, err := document.LoadFile(p, document.Options{})
	if err != nil {
		b.Skipf("missing %s", p)
	}
	size := 0
	for _, d := range docs {
		size += len(d.Text)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, d := range docs {
			Split(d, Config{Size: 300})
		}
	}
}
