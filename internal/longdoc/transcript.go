package longdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Turn is one speaker's utterance. Speaker is "" for a line that names no
// speaker.
type Turn struct {
	Speaker string `json:"speaker"`
	Text    string `json:"text"`
}

// Transcript is a meeting as a list of turns.
type Transcript struct {
	// ID is the record's id (JSON Lines, QMSum file name given by the
	// caller), or "".
	ID    string
	Turns []Turn
	// Reference is the human summary of the whole meeting when the input
	// carries one (QMSum's general query answer), or "".
	Reference string
}

// Text renders the transcript one turn per line, "Speaker: utterance" (or
// the utterance alone when no speaker is named). Parsing the result gives
// the same text again.
func (t Transcript) Text() string {
	var b strings.Builder
	for i, turn := range t.Turns {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(turn.line())
	}
	return b.String()
}

func (t Turn) line() string {
	switch {
	case t.Speaker == "":
		return t.Text
	case t.Text == "":
		return t.Speaker + ":"
	}
	return t.Speaker + ": " + t.Text
}

// ParseTranscripts reads meeting transcripts in any of three forms,
// recognised by content:
//
//   - QMSum JSON: one object with "meeting_transcripts": [{"speaker",
//     "content"}] (and "general_query_list" for the reference summary);
//   - JSON Lines (or one JSON object) with a "text" field, such as a
//     docs.jsonl record: one transcript per record, its text parsed as
//     plain text;
//   - plain text: one turn per line, "Speaker: utterance"; a line with no
//     speaker prefix is a turn of its own with Speaker "".
//
// Every turn is one line: runs of white space (newlines inside an
// utterance included) become one space, and blank lines are dropped.
func ParseTranscripts(data []byte) ([]Transcript, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("transcript: not UTF-8 text: convert the file to UTF-8")
	}
	if looksLikeJSON(data) {
		return parseJSONTranscripts(data)
	}
	t := parsePlain(string(data))
	if len(t.Turns) == 0 {
		return nil, errors.New("transcript: no text: give a file with one \"Speaker: utterance\" line per turn")
	}
	return []Transcript{t}, nil
}

// looksLikeJSON reports whether data starts with an object whose first
// member has a quoted name: `{"…` after optional white space. A plain
// transcript may well start with "{vocalsound}", which does not.
func looksLikeJSON(data []byte) bool {
	rest := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(rest) == 0 || rest[0] != '{' {
		return false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	return len(rest) > 0 && rest[0] == '"'
}

// parsePlain reads one turn per non-blank line.
func parsePlain(text string) Transcript {
	var t Transcript
	for line := range strings.Lines(text) {
		line = oneLine(line)
		if line == "" {
			continue
		}
		t.Turns = append(t.Turns, parseLine(line))
	}
	return t
}

// A speaker prefix is a name or a role — "Marketing", "PhD D", "Hon.
// Carla Qualtrough (Minister of Employment, Workforce Development and
// Disability Inclusion)" — not the start of a sentence that holds a colon.
const (
	maxSpeakerRunes = 100
	maxSpeakerWords = 14
	// anyCaseWords is how many words outside parentheses a speaker may
	// have in any case; a longer one must be capitalised, as names are.
	anyCaseWords = 3
)

// nameParticles are the lower-case words names and titles hold.
var nameParticles = map[string]bool{"of": true, "and": true, "the": true, "for": true, "de": true, "du": true, "la": true, "le": true, "van": true, "von": true, "der": true}

// parseLine splits "Speaker: utterance"; a line is all utterance when the
// part before the first colon does not look like a name.
func parseLine(line string) Turn {
	i := strings.IndexByte(line, ':')
	if i <= 0 || (i+1 < len(line) && line[i+1] != ' ' && line[i+1] != '\t') {
		return Turn{Text: line}
	}
	speaker := line[:i]
	if !isSpeaker(speaker) {
		return Turn{Text: line}
	}
	return Turn{Speaker: speaker, Text: strings.TrimSpace(line[i+1:])}
}

func isSpeaker(s string) bool {
	if utf8.RuneCountInString(s) > maxSpeakerRunes || len(strings.Fields(s)) > maxSpeakerWords {
		return false
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if !unicode.IsLetter(first) && !unicode.IsDigit(first) || unicode.IsSpace(last) {
		return false
	}
	outside := wordsOutsideParens(s)
	if len(outside) <= anyCaseWords {
		return true
	}
	for _, w := range outside {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) && !unicode.IsDigit(r) && !nameParticles[w] {
			return false
		}
	}
	return true
}

// wordsOutsideParens are the words of s not inside parentheses.
func wordsOutsideParens(s string) []string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
			b.WriteByte(' ')
		case r == ')' && depth > 0:
			depth--
			b.WriteByte(' ')
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return strings.Fields(b.String())
}

// qmsumRecord holds the fields of a QMSum meeting file and of a JSON Lines
// document record that a transcript needs.
type qmsumRecord struct {
	ID                 json.RawMessage `json:"id"`
	Text               *string         `json:"text"`
	MeetingTranscripts []struct {
		Speaker string `json:"speaker"`
		Content string `json:"content"`
	} `json:"meeting_transcripts"`
	GeneralQueryList []struct {
		Query  string `json:"query"`
		Answer string `json:"answer"`
	} `json:"general_query_list"`
}

// parseJSONTranscripts reads one or more JSON objects in a row (a QMSum
// file is one; a JSON Lines file is one per line).
func parseJSONTranscripts(data []byte) ([]Transcript, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []Transcript
	for n := 1; ; n++ {
		var rec qmsumRecord
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("transcript: record %d (line %d): %w", n, lineAt(data, errorOffset(err, dec)), err)
		}
		t, err := rec.transcript()
		if err != nil {
			return nil, fmt.Errorf("transcript: record %d (line %d): %w", n, lineAt(data, dec.InputOffset()), err)
		}
		out = append(out, t)
	}
}

func (r qmsumRecord) transcript() (Transcript, error) {
	var t Transcript
	t.ID = recordID(r.ID)
	switch {
	case len(r.MeetingTranscripts) > 0:
		for _, turn := range r.MeetingTranscripts {
			tt := Turn{Speaker: oneLine(turn.Speaker), Text: oneLine(turn.Content)}
			if tt.Speaker == "" && tt.Text == "" {
				continue
			}
			t.Turns = append(t.Turns, parseLine(tt.line()))
		}
		for _, q := range r.GeneralQueryList {
			if q.Answer != "" {
				t.Reference = q.Answer
				break
			}
		}
	case r.Text != nil:
		t.Turns = parsePlain(*r.Text).Turns
	default:
		return t, errors.New(`neither "meeting_transcripts" (QMSum) nor "text" (JSON Lines): give one of them`)
	}
	if len(t.Turns) == 0 {
		return t, errors.New("the transcript is empty")
	}
	return t, nil
}

// recordID is a string or number id as text.
func recordID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// oneLine collapses all white space, newlines included, to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func errorOffset(err error, dec *json.Decoder) int64 {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return syn.Offset
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return typ.Offset
	}
	return dec.InputOffset()
}

// lineAt is the 1-based line of byte offset off.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}
