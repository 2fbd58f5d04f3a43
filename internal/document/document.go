package document

import (
	"crypto/sha256"
	"encoding/hex"
)

// Document is one unit of retrievable text.
type Document struct {
	// ID is stable across runs: the `id` field of a JSON Lines record, or
	// else a hash of Path and Text, so an edited file gets a new ID.
	ID string
	// Path is the file the document came from.
	Path string
	// Title is the document's title: the first heading, an HTML <title>, a
	// JSON Lines `title` field, or the file's base name.
	Title string
	// Text is the text to index. For Markdown it is the source itself, so
	// byte offsets into Text are offsets into the file.
	Text string
	// Headings are the section headings of Text in order (Markdown, HTML).
	Headings []Heading
	// Meta holds extra string fields (the format, JSON Lines scalars).
	Meta map[string]string
}

// Heading is a section heading: its level (1 for "#" or <h1>), its text,
// and the byte offset in Document.Text where the section starts.
type Heading struct {
	Level int
	Text  string
	Start int
}

// Hash is the hex SHA-256 of the document's title and text: it changes when
// the content that gets indexed changes.
func (d Document) Hash() string {
	h := sha256.New()
	h.Write([]byte(d.Title))
	h.Write([]byte{0})
	h.Write([]byte(d.Text))
	return hex.EncodeToString(h.Sum(nil))
}

// contentID is the ID of a document with no ID of its own: the first 16 hex
// digits of SHA-256 over its path and text.
func contentID(path, text string) string {
	h := sha256.New()
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil))[:16]
}
