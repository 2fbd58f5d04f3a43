package document

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parseHTML extracts the main text of a page: the <main> or first <article>
// when there is one, else the <body>, without scripts, styles, navigation,
// headers, footers, asides and forms. Block elements become paragraph
// breaks; <h1>…<h6> become Headings.
func parseHTML(name string, data []byte, _ Options) ([]Document, error) {
	root, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("document: %s: parsing HTML: %w", name, err)
	}
	var x htmlText
	body := findElement(root, atom.Main)
	if body == nil {
		body = findElement(root, atom.Article)
	}
	if body == nil {
		body = root
	}
	x.walk(body)
	text := strings.TrimSpace(x.b.String())
	title := ""
	if t := findElement(root, atom.Title); t != nil {
		title = collapseSpace(textOf(t))
	}
	if title == "" && len(x.heads) > 0 {
		title = x.heads[0].Text
	}
	if title == "" {
		title = baseTitle(name)
	}
	// Trimming the leading space shifted nothing: walk never starts with it.
	return []Document{{ID: contentID(name, text), Path: name, Title: title, Text: text, Headings: x.heads,
		Meta: map[string]string{"format": "html"}}}, nil
}

// htmlText accumulates visible text with collapsed whitespace.
type htmlText struct {
	b       strings.Builder
	heads   []Heading
	space   bool // a space is pending before the next word
	atBlock bool // the text ends with a paragraph break
}

var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Nav: true, atom.Header: true, atom.Footer: true, atom.Aside: true,
	atom.Form: true, atom.Svg: true, atom.Iframe: true, atom.Button: true,
	atom.Head: true, atom.Select: true,
}

var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true,
	atom.Li: true, atom.Ul: true, atom.Ol: true, atom.Table: true, atom.Tr: true,
	atom.Blockquote: true, atom.Pre: true, atom.Br: true, atom.Hr: true, atom.Dl: true,
	atom.Dt: true, atom.Dd: true, atom.Figure: true, atom.Figcaption: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
}

var headingLevel = map[atom.Atom]int{atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6}

func (x *htmlText) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		x.words(n.Data)
		return
	case html.ElementNode:
		if skipped[n.DataAtom] || hiddenElement(n) {
			return
		}
	}
	if blocks[n.DataAtom] {
		x.paragraph()
	}
	if level := headingLevel[n.DataAtom]; level > 0 {
		if t := collapseSpace(textOf(n)); t != "" {
			x.heads = append(x.heads, Heading{Level: level, Text: t, Start: x.b.Len()})
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		x.walk(c)
	}
	if blocks[n.DataAtom] {
		x.paragraph()
	}
}

func (x *htmlText) words(s string) {
	if len(s) > 0 && isSpaceByte(s[0]) {
		x.space = true
	}
	for _, w := range strings.Fields(s) {
		if x.space && x.b.Len() > 0 && !x.atBlock {
			x.b.WriteByte(' ')
		}
		x.atBlock = false
		x.b.WriteString(w)
		x.space = true
	}
	if len(s) > 0 {
		x.space = isSpaceByte(s[len(s)-1])
	}
}

// paragraph ends the current block with a blank line (once).
func (x *htmlText) paragraph() {
	s := x.b.String()
	if len(s) > 0 && !strings.HasSuffix(s, "\n\n") {
		x.b.WriteString("\n\n")
	}
	x.space, x.atBlock = false, true
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' }

func hiddenElement(n *html.Node) bool {
	for _, a := range n.Attr {
		switch a.Key {
		case "hidden":
			return true
		case "aria-hidden":
			return a.Val == "true"
		case "role":
			return a.Val == "navigation"
		}
	}
	return false
}

func findElement(n *html.Node, a atom.Atom) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == a {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findElement(c, a); f != nil {
			return f
		}
	}
	return nil
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
