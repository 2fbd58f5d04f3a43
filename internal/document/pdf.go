package document

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/ledongthuc/pdf"
)

// parsePDF extracts the text of each page (through github.com/ledongthuc/pdf),
// pages separated by a blank line. A page with no text layer (a scan)
// yields nothing; a PDF with no text at all is an error, since there is
// nothing to index.
func parsePDF(name string, data []byte, _ Options) (docs []Document, err error) {
	defer func() {
		if r := recover(); r != nil { // the parser panics on some malformed files
			docs, err = nil, fmt.Errorf("document: %s: malformed PDF: %v", name, r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("document: %s: reading PDF: %w", name, err)
	}
	leaves, err := pdfPages(r.Trailer().Key("Root").Key("Pages"))
	if err != nil {
		return nil, fmt.Errorf("document: %s: %w", name, err)
	}
	var pages []string
	for i, leaf := range leaves {
		text, err := pdf.Page{V: leaf}.GetPlainText(nil)
		if err != nil {
			return nil, fmt.Errorf("document: %s: page %d: %w", name, i+1, err)
		}
		if text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD")); text != "" {
			pages = append(pages, text)
		}
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("document: %s: the PDF has no extractable text (a scan needs OCR first)", name)
	}
	text := strings.Join(pages, "\n\n")
	return []Document{{ID: contentID(name, text), Path: name, Title: baseTitle(name), Text: text,
		Meta: map[string]string{"format": "pdf", "pages": strconv.Itoa(len(leaves))}}}, nil
}

// Bounds on the page tree, which the library walks without them: a cycle
// of /Kids or /Parent references would hang it.
const (
	pdfMaxDepth = 64     // nesting of /Pages nodes, and length of a /Parent chain
	pdfMaxNodes = 200000 // page-tree nodes visited
)

// pdfPages returns the leaves (/Type /Page) of a page tree in order,
// rejecting trees too deep or too large (cycles among them).
func pdfPages(root pdf.Value) ([]pdf.Value, error) {
	var leaves []pdf.Value
	visited := 0
	var walk func(v pdf.Value, depth int) error
	walk = func(v pdf.Value, depth int) error {
		if visited++; visited > pdfMaxNodes || depth > pdfMaxDepth {
			return fmt.Errorf("malformed PDF: the page tree is cyclic or too large")
		}
		switch v.Key("Type").Name() {
		case "Pages":
			kids := v.Key("Kids")
			for i := 0; i < kids.Len(); i++ {
				if err := walk(kids.Index(i), depth+1); err != nil {
					return err
				}
			}
		case "Page":
			if !pdfParentsEnd(v) {
				return fmt.Errorf("malformed PDF: a page's /Parent chain is cyclic or too long")
			}
			leaves = append(leaves, v)
		}
		return nil
	}
	return leaves, walk(root, 0)
}

// pdfParentsEnd reports whether v's /Parent chain ends within the bound.
func pdfParentsEnd(v pdf.Value) bool {
	for range pdfMaxDepth {
		if v.IsNull() {
			return true
		}
		v = v.Key("Parent")
	}
	return v.IsNull()
}
