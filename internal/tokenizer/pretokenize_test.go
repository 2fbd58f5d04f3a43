package tokenizer

import (
	"slices"
	"testing"
)

// splitCases are the words each pre-tokenizer makes of a text. The
// gpt-2, llama3 and qwen2 words were checked against the original regexes
// run by a regex engine with look-ahead and Unicode classes (JavaScript's,
// with (?i:…) written as [sS]…); the deepseek-llm ones follow llama.cpp's
// sequence of regexes.
var splitCases = map[string][]struct {
	text  string
	words []string
}{
	"gpt-2": {
		{"Hello world", []string{"Hello", " world"}},
		{"  Hello", []string{" ", " Hello"}},
		{"'s 'S 'll 'LL we'Re", []string{"'s", " '", "S", " '", "ll", " '", "LL", " we", "'", "Re"}},
		{"a1234567b", []string{"a", "1234567", "b"}},
		{"x  \n\n y", []string{"x", "  \n\n", " y"}},
		{"!!\n\n", []string{"!!", "\n\n"}},
		{" ?我想在apple工作1314151天～", []string{" ?", "我想在apple工作", "1314151", "天", "～"}},
		{"\t\tTab\r\n", []string{"\t", "\t", "Tab", "\r\n"}},
		{"é́!", []string{"é", "́!"}},
		{"3..3", []string{"3", "..", "3"}},
		{" 🦙.cpp", []string{" 🦙.", "cpp"}},
		{"\u3000x", []string{"\u3000", "x"}},
	},
	"llama3": {
		{"Hello world", []string{"Hello", " world"}},
		{"  Hello", []string{" ", " Hello"}},
		{"'s 'S 'll 'LL we'Re", []string{"'s", " '", "S", " '", "ll", " '", "LL", " we", "'Re"}},
		{"a1234567b", []string{"a", "123", "456", "7", "b"}},
		{"x  \n\n y", []string{"x", "  \n\n", " y"}},
		{"!!\n\n", []string{"!!\n\n"}},
		{" ?我想在apple工作1314151天～", []string{" ?", "我想在apple工作", "131", "415", "1", "天", "～"}},
		{"\t\tTab\r\n", []string{"\t", "\tTab", "\r\n"}},
		{"é́!", []string{"é", "́!"}},
		{"3..3", []string{"3", "..", "3"}},
		{" 🦙.cpp", []string{" 🦙.", "cpp"}},
		{"\u3000x", []string{"\u3000x"}},
	},
	"qwen2": {
		{"Hello world", []string{"Hello", " world"}},
		{"  Hello", []string{" ", " Hello"}},
		{"'s 'S 'll 'LL we'Re", []string{"'s", " '", "S", " '", "ll", " '", "LL", " we", "'Re"}},
		{"a1234567b", []string{"a", "1", "2", "3", "4", "5", "6", "7", "b"}},
		{"x  \n\n y", []string{"x", "  \n\n", " y"}},
		{"!!\n\n", []string{"!!\n\n"}},
		{" ?我想在apple工作1314151天～", []string{" ?", "我想在apple工作", "1", "3", "1", "4", "1", "5", "1", "天", "～"}},
		{"\t\tTab\r\n", []string{"\t", "\tTab", "\r\n"}},
		{"é́!", []string{"é", "́!"}},
		{"3..3", []string{"3", "..", "3"}},
		{" 🦙.cpp", []string{" 🦙.", "cpp"}},
		{"\u3000x", []string{"\u3000x"}},
	},
	"deepseek-llm": {
		{"Hello world", []string{"Hello", " world"}},
		{"  Hello", []string{" ", " Hello"}},
		{"'s 'S 'll 'LL we'Re", []string{"'", "s", " '", "S", " '", "ll", " '", "LL", " we", "'", "Re"}},
		{"a1234567b", []string{"a", "1234567", "b"}},
		{"x  \n\n y", []string{"x", "  ", "\n", "\n", " y"}},
		{"!!\n\n", []string{"!!", "\n", "\n"}},
		{" ?我想在apple工作1314151天～", []string{" ?", "我想在", "apple", "工作", "1314151", "天", "～"}},
		{"\t\tTab\r\n", []string{"\t", "\tTab", "\r", "\n"}},
		{"é́!", []string{"é", "́", "!"}},
		{"3..3", []string{"3", "..", "3"}},
		{" 🦙.cpp", []string{" 🦙", ".", "cpp"}},
		{"\u3000x", []string{"\u3000x"}},
	},
}

func splitWords(p preTokenizer, text string) []string {
	var rs runes
	rs.reset(text)
	var words []string
	p.split(&rs, 0, len(rs.rs), func(a, b int) { words = append(words, text[rs.off[a]:rs.off[b]]) })
	return words
}

func TestPreTokenizers(t *testing.T) {
	for name, cases := range splitCases {
		p, err := lookupPreTokenizer(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if got := splitWords(p, c.text); !slices.Equal(got, c.words) {
				t.Errorf("%s: split(%q) = %q, want %q", name, c.text, got, c.words)
			}
		}
	}
	if _, err := lookupPreTokenizer("tekken"); err == nil {
		t.Error("tekken: want an error (not supported)")
	}
}

// FuzzPreTokenizers checks on arbitrary bytes that every pre-tokenizer
// covers the text exactly with non-empty words and never panics.
func FuzzPreTokenizers(f *testing.F) {
	for _, cases := range splitCases {
		for _, c := range cases {
			f.Add(c.text)
		}
	}
	f.Add("\xff\xfe a\x80")
	f.Fuzz(func(t *testing.T, text string) {
		for name, p := range preTokenizers {
			words := splitWords(p, text)
			joined := ""
			for _, w := range words {
				if w == "" {
					t.Fatalf("%s: empty word in %q", name, words)
				}
				joined += w
			}
			if joined != text {
				t.Fatalf("%s: words %q do not cover %q", name, words, text)
			}
		}
	})
}
