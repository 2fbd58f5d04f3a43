package longdoc

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flywheel/internal/refdata"
)

var transcriptCases = []struct {
	name  string
	in    string
	turns []Turn
	ref   string
	err   string
}{
	{name: "plain", in: "Alice: Hello there.\nBob: Hi!\n\n  Carol:   Shall we start?  \r\n",
		turns: []Turn{{"Alice", "Hello there."}, {"Bob", "Hi!"}, {"Carol", "Shall we start?"}}},
	{name: "no speaker", in: "{vocalsound} okay\nNote:this is not a speaker\nhttp://example.com\nProject Manager: Right.",
		turns: []Turn{{"", "{vocalsound} okay"}, {"", "Note:this is not a speaker"}, {"", "http://example.com"}, {"Project Manager", "Right."}}},
	{name: "long prefix is no speaker", in: "The thing we said in the last meeting was: no.",
		turns: []Turn{{"", "The thing we said in the last meeting was: no."}}},
	{name: "empty utterance", in: "Alice:\nBob: ok",
		turns: []Turn{{"Alice", ""}, {"Bob", "ok"}}},
	{name: "qmsum", in: `{"general_query_list": [{"query": "Summarize the whole meeting.", "answer": "They met."}],
		"meeting_transcripts": [{"speaker": "Marketing", "content": "Right , both of them ."}, {"speaker": "", "content": ""}, {"speaker": "User Interface", "content": "Yeah\n."}]}`,
		turns: []Turn{{"Marketing", "Right , both of them ."}, {"User Interface", "Yeah ."}}, ref: "They met."},
	{name: "jsonl record", in: `{"id": "m1", "text": "A: one\nB: two"}`,
		turns: []Turn{{"A", "one"}, {"B", "two"}}},
	{name: "empty", in: " \n\n", err: "no text"},
	{name: "json without transcript", in: `{"title": "x"}`, err: "neither"},
	{name: "broken json", in: "{\"text\": \"a\",\n\"id\": }", err: "line 2"},
	{name: "not utf-8", in: "A: \xff", err: "UTF-8"},
}

func TestParseTranscripts(t *testing.T) {
	for _, tc := range transcriptCases {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := ParseTranscripts([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) != 1 {
				t.Fatalf("%d transcripts, want 1", len(ts))
			}
			if got := ts[0].Turns; !equalTurns(got, tc.turns) {
				t.Errorf("turns = %q\nwant    %q", got, tc.turns)
			}
			if ts[0].Reference != tc.ref {
				t.Errorf("reference = %q, want %q", ts[0].Reference, tc.ref)
			}
		})
	}
}

func equalTurns(a, b []Turn) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// qmsumDoc is one record of qmsum/docs.jsonl.
type qmsumDoc struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	NumTurns int    `json:"num_turns"`
}

func readQMSumDocs(t testing.TB) []qmsumDoc {
	t.Helper()
	f, err := os.Open(refdata.Path(t, "long/qmsum/docs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []qmsumDoc
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d qmsumDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	if len(docs) != 6 {
		t.Fatalf("%d meetings in docs.jsonl, want 6", len(docs))
	}
	return docs
}

// The three forms of the QMSum meetings give the same transcript: the raw
// QMSum file, its docs.jsonl record, and that record's text as plain text;
// every turn keeps its speaker, and its text up to white space.
func TestParseQMSumForms(t *testing.T) {
	for _, d := range readQMSumDocs(t) {
		t.Run(d.ID, func(t *testing.T) {
			raw, err := os.ReadFile(refdata.Path(t, filepath.Join("long/qmsum/raw", d.ID+".json")))
			if err != nil {
				t.Fatal(err)
			}
			var meeting struct {
				Turns []struct{ Speaker, Content string } `json:"meeting_transcripts"`
			}
			if err := json.Unmarshal(raw, &meeting); err != nil {
				t.Fatal(err)
			}
			fromRaw := parseOne(t, raw)
			line, _ := json.Marshal(d)
			fromLine := parseOne(t, line)
			fromText := parseOne(t, []byte(d.Text))
			if len(fromRaw.Turns) != d.NumTurns || len(meeting.Turns) != d.NumTurns {
				t.Fatalf("raw: %d turns, want num_turns %d", len(fromRaw.Turns), d.NumTurns)
			}
			for i, turn := range fromRaw.Turns {
				want := Turn{meeting.Turns[i].Speaker, oneLine(meeting.Turns[i].Content)}
				if turn != want {
					t.Fatalf("turn %d = %q, want %q", i, turn, want)
				}
			}
			if fromRaw.Reference == "" {
				t.Error("raw: no reference summary")
			}
			if fromLine.ID != d.ID || fromLine.Text() != fromRaw.Text() || fromText.Text() != fromRaw.Text() {
				t.Error("the docs.jsonl record or its plain text gives another text than the raw file")
			}
		})
	}
}

func parseOne(t *testing.T, data []byte) Transcript {
	t.Helper()
	ts, err := ParseTranscripts(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 {
		t.Fatalf("%d transcripts, want 1", len(ts))
	}
	return ts[0]
}

// FuzzParseTranscripts: any input parses or fails without a panic, and a
// parsed transcript's text reads back, as plain text, to the same turns.
func FuzzParseTranscripts(f *testing.F) {
	for _, tc := range transcriptCases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte("{\"id\": 1, \"text\": \"a: b\"}\n{\"id\": 2, \"text\": \"c\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := ParseTranscripts(data)
		if err != nil {
			return
		}
		for _, tr := range ts {
			if len(tr.Turns) == 0 {
				t.Fatal("a transcript with no turns")
			}
			if back := parsePlain(tr.Text()); !equalTurns(back.Turns, tr.Turns) {
				t.Fatalf("turns changed through Text():\n%q\n%q", tr.Turns, back.Turns)
			}
		}
	})
}
