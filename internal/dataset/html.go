package dataset

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlElements are the tags that mark a text as HTML markup (rather than,
// say, a sentence that mentions "<b>").
var htmlElements = map[string]bool{
	"p": true, "br": true, "div": true, "span": true, "a": true, "b": true, "i": true, "u": true,
	"strong": true, "em": true, "ul": true, "ol": true, "li": true, "table": true, "tr": true,
	"td": true, "th": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"pre": true, "code": true, "blockquote": true, "img": true, "hr": true, "html": true, "body": true,
	"head": true, "title": true, "section": true, "article": true, "font": true, "sup": true, "sub": true,
}

// looksLikeHTML says whether a text is HTML markup to flatten: at least
// three tags of two or more known elements, no Markdown code (where HTML is
// usually the subject, not the markup) and not a whole document.
func looksLikeHTML(s string) bool {
	if strings.IndexByte(s, '<') < 0 || strings.Contains(s, "```") || strings.Count(s, "`") >= 2 {
		return false
	}
	if l := strings.ToLower(s); strings.Contains(l, "<!doctype") || strings.Contains(l, "<html") {
		return false // a whole document is code someone wrote, not formatting
	}
	tags, names := 0, map[string]bool{}
	for rest := s; ; {
		i := strings.IndexByte(rest, '<')
		if i < 0 || i+1 >= len(rest) {
			break
		}
		rest = rest[i+1:]
		name := tagName(rest)
		if htmlElements[name] {
			tags++
			names[name] = true
		}
	}
	return tags >= 3 && len(names) >= 2
}

// tagName reads the element name after "<" or "</" up to a space, "/" or ">".
func tagName(s string) string {
	s = strings.TrimPrefix(s, "/")
	end := 0
	for end < len(s) && end < 12 && (isAlpha(s[end]) || end > 0 && isDigit(s[end])) {
		end++
	}
	if end == 0 || end >= len(s) {
		return ""
	}
	switch s[end] {
	case '>', ' ', '/', '\t', '\n':
		return strings.ToLower(s[:end])
	}
	return ""
}

// blockElements start a new line in the text.
var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Ul: true, atom.Ol: true,
	atom.Tr: true, atom.Table: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true,
	atom.H5: true, atom.H6: true, atom.Pre: true, atom.Blockquote: true, atom.Hr: true,
	atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true, atom.Title: true,
	atom.Dd: true, atom.Dt: true, atom.Dl: true,
}

// htmlToText flattens HTML to text: tags go, entities are decoded, block
// elements become line breaks, list items "- ", table cells are separated by
// " | ", script and style vanish and <pre> keeps its spacing.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip, pre := 0, 0
	newline := func() {
		if str := b.String(); len(str) > 0 && !strings.HasSuffix(str, "\n") {
			b.WriteByte('\n')
		}
	}
	for {
		switch z.Next() {
		case html.ErrorToken:
			return tidyLines(b.String())
		case html.TextToken:
			if skip > 0 {
				continue
			}
			text := string(z.Text())
			if pre == 0 {
				text = collapseSpaces(text)
				if strings.HasSuffix(b.String(), "\n") {
					text = strings.TrimLeft(text, " ")
				}
			}
			b.WriteString(text)
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == atom.Script || a == atom.Style:
				skip++
			case a == atom.Pre:
				pre++
				newline()
			case a == atom.Li:
				newline()
				b.WriteString("- ")
			case a == atom.Td || a == atom.Th:
				if str := b.String(); len(str) > 0 && !strings.HasSuffix(str, "\n") {
					b.WriteString(" | ")
				}
			case blockElements[a]:
				newline()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == atom.Script || a == atom.Style:
				skip = max(0, skip-1)
			case a == atom.Pre:
				pre = max(0, pre-1)
				newline()
			case a == atom.P || a == atom.Blockquote || a == atom.Table || a == atom.Ul || a == atom.Ol ||
				isHeading(a):
				newline()
				b.WriteByte('\n')
			case blockElements[a]:
				newline()
			}
		}
	}
}

func isHeading(a atom.Atom) bool {
	switch a {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return true
	}
	return false
}

// collapseSpaces turns each run of HTML whitespace into one space.
func collapseSpaces(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\f' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// tidyLines trims trailing spaces and keeps at most one empty line in a row.
func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank++; blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}
