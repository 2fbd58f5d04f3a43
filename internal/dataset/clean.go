package dataset

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CleanOptions turns cleaning rules off; the zero value runs them all.
type CleanOptions struct {
	KeepHTML       bool // do not flatten HTML markup to text
	KeepPII        bool // do not redact personal data
	KeepControl    bool // keep control and invisible format characters
	KeepWhitespace bool // keep spaces, line ends and blank lines as they are
	SkipNFC        bool // do not normalise to Unicode NFC
}

// CleanCounts counts what cleaning changed: texts (system prompts, messages,
// answers) changed by each rule, and values redacted by kind.
type CleanCounts struct {
	HTML       int       `json:"html"`
	NFC        int       `json:"nfc"`
	Control    int       `json:"control"`
	Whitespace int       `json:"whitespace"`
	Redacted   PIICounts `json:"redacted"`
}

func (c *CleanCounts) plus(o CleanCounts) {
	c.HTML += o.HTML
	c.NFC += o.NFC
	c.Control += o.Control
	c.Whitespace += o.Whitespace
	c.Redacted.plus(o.Redacted)
}

// CleanText applies the rules to one text, in order: HTML to text, control
// characters, NFC, whitespace, personal data.
func CleanText(s string, opt CleanOptions) (string, CleanCounts) {
	var c CleanCounts
	step := func(skip bool, counter *int, f func(string) string) {
		if skip {
			return
		}
		if t := f(s); t != s {
			*counter++
			s = t
		}
	}
	step(opt.KeepHTML, &c.HTML, func(s string) string {
		if looksLikeHTML(s) {
			return htmlToText(s)
		}
		return s
	})
	step(opt.KeepControl, &c.Control, removeControl)
	step(opt.SkipNFC, &c.NFC, nfc)
	step(opt.KeepWhitespace, &c.Whitespace, normalizeWhitespace)
	if !opt.KeepPII {
		s, c.Redacted = RedactPII(s)
	}
	return s, c
}

func nfc(s string) string {
	if norm.NFC.IsNormalString(s) {
		return s
	}
	return norm.NFC.String(s)
}

// invisible are format characters with no place in training text: the byte
// order mark, zero-width space, soft hyphen, word joiner, and the bidi
// overrides and isolates that can make text read differently than it is.
func invisible(r rune) bool {
	switch {
	case r == '\uFEFF', r == '\u200B', r == '\u00AD', r == '\u2060':
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return true
	case r == '\uFFFE', r == '\uFFFF':
		return true
	}
	return false
}

// removeControl drops control characters other than tab and line ends, and
// invisible format characters; it turns \r\n and lone \r into \n.
func removeControl(s string) string {
	if !hasControl(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue
			}
			b.WriteByte('\n')
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) || invisible(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return true
		}
		if c >= 0xc2 { // a multi-byte rune: C1 controls and format characters
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsControl(r) || invisible(r) {
				return true
			}
			i += size - 1
		}
	}
	return false
}

// normalizeWhitespace turns Unicode spaces (no-break, en, em, thin: not
// the ideographic space of CJK text) into plain spaces, trims spaces at line
// ends, keeps at most one empty line in a row and trims the text. Indentation
// inside the text is kept, so code stays as it was.
func normalizeWhitespace(s string) string {
	if !needsWhitespace(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r != ' ' && r != '\u3000' && r > 0x7f && unicode.Is(unicode.Zs, r) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return tidyLines(strings.TrimSpace(b.String()))
}

func needsWhitespace(s string) bool {
	if s != strings.TrimSpace(s) || strings.Contains(s, "\n\n\n") {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c == ' ' || c == '\t') && (i+1 == len(s) || s[i+1] == '\n'):
			return true
		case c >= 0xc2:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != '\u3000' && unicode.Is(unicode.Zs, r) {
				return true
			}
			i += size - 1
		}
	}
	return false
}

// Cleaner cleans examples and counts what it changed.
type Cleaner struct {
	opt    CleanOptions
	report CleanReport
}

// CleanReport sums a Cleaner's work.
type CleanReport struct {
	Records int         `json:"records"`
	Changed int         `json:"changed"` // records with any text changed
	Texts   CleanCounts `json:"texts"`
}

// NewCleaner returns a Cleaner with the given rules.
func NewCleaner(opt CleanOptions) *Cleaner { return &Cleaner{opt: opt} }

// Clean rewrites the texts of ex in place and reports whether any changed.
// Tools and function calls are JSON and are left alone.
func (c *Cleaner) Clean(ex *Example) bool {
	changed := false
	c.report.Records++
	opt := c.opt
	opt.KeepHTML = opt.KeepHTML || asksForHTML(ex)
	ex.eachText(func(_ string, s *string) {
		t, counts := CleanText(*s, opt)
		c.report.Texts.plus(counts)
		if t != *s {
			*s = t
			changed = true
		}
	})
	if changed {
		c.report.Changed++
	}
	return changed
}

// Report is what the Cleaner did so far.
func (c *Cleaner) Report() CleanReport { return c.report }

// asksForHTML reports whether the prompt is about HTML or web pages, where
// markup in the answer is what was asked for and is kept.
func asksForHTML(ex *Example) bool {
	check := func(s string) bool {
		l := strings.ToLower(s)
		for _, w := range []string{"html", "web page", "webpage", "website", "网页", "<"} {
			if strings.Contains(l, w) {
				return true
			}
		}
		return false
	}
	if check(ex.System) {
		return true
	}
	for _, m := range ex.Messages {
		if m.Role.userSide() && check(m.Content) {
			return true
		}
	}
	return false
}
