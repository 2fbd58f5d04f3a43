package document

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMarkdownHeadings(t *testing.T) {
	tests := []struct {
		name, src string
		want      []Heading
	}{
		{"atx", "# Title\n\ntext\n\n## Part A ##\nmore", []Heading{{1, "Title", 0}, {2, "Part A", 15}}},
		{"setext", "Title\n=====\n\nSub\n---\nx", []Heading{{1, "Title", 0}, {2, "Sub", 13}}},
		{"fenced code is not a heading", "```\n# not\n```\n# yes", []Heading{{1, "yes", 14}}},
		{"hash without space", "#hashtag\n", nil},
		{"indented code", "    # code\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := markdownHeadings(tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for _, h := range got {
				if !strings.Contains(tt.src[h.Start:], h.Text) {
					t.Errorf("heading %q not at offset %d", h.Text, h.Start)
				}
			}
		})
	}
}

func TestHTML(t *testing.T) {
	tests := []struct {
		name, src, title, text string
		heads                  []Heading
	}{
		{"drops script style nav",
			`<html><head><title>T</title><style>p{}</style></head><body><nav><a>Home</a></nav>` +
				`<h1>Head</h1> <p> One <b>bold</b> word.</p><script>var x</script><p>Two</p><footer>(c)</footer></body></html>`,
			"T", "Head\n\nOne bold word.\n\nTwo", []Heading{{1, "Head", 0}}},
		{"main wins", `<body><div>menu</div><main><h2>A</h2><p>x</p></main></body>`, "A", "A\n\nx", []Heading{{2, "A", 0}}},
		{"no title", `<p>just  text</p>`, "page", "just text", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := parseHTML("dir/page.html", []byte(tt.src), Options{})
			if err != nil {
				t.Fatal(err)
			}
			d := docs[0]
			if d.Title != tt.title || d.Text != tt.text || !reflect.DeepEqual(d.Headings, tt.heads) {
				t.Fatalf("got title %q text %q heads %+v", d.Title, d.Text, d.Headings)
			}
		})
	}
}

func TestJSONL(t *testing.T) {
	src := `{"id": "a1", "title": "A", "text": "alpha", "lang": "en"}

{"id": 7, "text": "seven"}
{"text": "no id"}
`
	docs, err := parseJSONL("c.jsonl", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 || docs[0].ID != "a1" || docs[0].Title != "A" || docs[0].Meta["lang"] != "en" ||
		docs[1].ID != "7" || docs[1].Text != "seven" || docs[2].ID != contentID("c.jsonl", "no id") {
		t.Fatalf("got %+v", docs)
	}
	custom, err := parseJSONL("c.jsonl", []byte(`{"pid": "p", "body": "b", "name": "n"}`),
		Options{JSONL: JSONLFields{ID: "pid", Title: "name", Text: "body"}})
	if err != nil || custom[0].ID != "p" || custom[0].Text != "b" || custom[0].Title != "n" {
		t.Fatalf("custom fields: %+v %v", custom, err)
	}
	for _, bad := range []string{`{"id": "x"}`, `[1]`, `{"id": "a", "text": "x"}` + "\n" + `{"id": "a", "text": "y"}`, `{"id": {}, "text": "x"}`} {
		if _, err := parseJSONL("bad.jsonl", []byte(bad), Options{}); err == nil || !strings.Contains(err.Error(), "bad.jsonl:") {
			t.Errorf("%q: want an error naming the line, got %v", bad, err)
		}
	}
}

func TestQASetLoads(t *testing.T) {
	for _, set := range []struct {
		path string
		n    int
	}{{"xquad_en", 240}, {"cmrc2018_dev", 848}} {
		p := filepath.Join("../../../shared/testdata/qa", set.path, "docs.jsonl")
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal(err)
			}
			t.Skipf("missing %s", p)
		}
		docs, err := LoadFile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != set.n {
			t.Errorf("%s: %d docs, want %d", set.path, len(docs), set.n)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		glob, rel string
		want      bool
	}{
		{"*.md", "a/b/c.md", true},
		{"*.md", "a/b/c.txt", false},
		{"a/*.md", "a/c.md", true},
		{"a/*.md", "a/b/c.md", false},
		{"a/**/*.md", "a/b/c/d.md", true},
		{"a/**/*.md", "a/d.md", true},
		{"**/drafts", "x/drafts", true},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.glob, tt.rel); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tt.glob, tt.rel, got, tt.want)
		}
	}
}

func TestFilesAndIDs(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, s string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "hello")
	write("sub/b.md", "# B\nbody")
	write("sub/skip/c.md", "# C")
	write("d.bin", "x")
	files, err := Files(context.Background(), dir, Options{Exclude: []string{"skip"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || filepath.Base(files[0]) != "a.txt" || filepath.Base(files[1]) != "b.md" {
		t.Fatalf("files %v", files)
	}
	d1, _ := LoadFile(files[0], Options{})
	d2, _ := LoadFile(files[0], Options{})
	if d1[0].ID != d2[0].ID || len(d1[0].ID) != 16 {
		t.Fatalf("ids %q %q", d1[0].ID, d2[0].ID)
	}
	write("a.txt", "changed")
	d3, _ := LoadFile(files[0], Options{})
	if d3[0].ID == d1[0].ID || d3[0].Hash() == d1[0].Hash() {
		t.Fatal("an edited file keeps its id")
	}
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{"# T\n\nx\n===\n```\n# c\n```", "<p>a<script>b</script></p><h1>h</h1>", `{"id":"a","text":"b"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []parser{parseMarkdown, parseHTML, parseJSONL, parseText} {
			docs, err := p("f", []byte(s), Options{})
			if err != nil {
				continue
			}
			for _, d := range docs {
				for _, h := range d.Headings {
					if h.Start < 0 || h.Start > len(d.Text) {
						t.Fatalf("heading offset %d outside text of %d bytes", h.Start, len(d.Text))
					}
				}
			}
		}
	})
}
