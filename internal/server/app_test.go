package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppFlow goes through the application as one user of a server
// without keys: collection, upload, ask, open the cited passage, rate,
// list and export the feedback, delete.
func TestAppFlow(t *testing.T) {
	e := newAppEnv(t, Config{})
	e.collectionWithDoc("", "docs")

	var list struct{ Collections []collectionJSON }
	st, b := e.do("", "GET", "/api/collections", nil)
	e.must(st, b, 200, &list)
	if len(list.Collections) != 1 || list.Collections[0].Name != "docs" || list.Collections[0].Generation == 0 {
		t.Fatalf("collections %s", b)
	}
	var docs struct{ Documents []documentJSON }
	st, b = e.do("", "GET", "/api/collections/docs/documents", nil)
	e.must(st, b, 200, &docs)
	if len(docs.Documents) != 1 || docs.Documents[0].Title != "The Eiffel Tower" || docs.Documents[0].File != "eiffel.md" {
		t.Fatalf("documents %s", b)
	}

	var a askResult
	st, b = e.do("", "POST", "/api/ask", map[string]any{"collection": "docs", "question": "How tall is the Eiffel Tower?"})
	e.must(st, b, 200, &a)
	if a.AnswerID == "" || a.Abstained || !strings.Contains(a.Answer, "330 metres") || len(a.Citations) == 0 {
		t.Fatalf("answer %s", b)
	}
	// The citation opens its passage: the document's text at its offsets.
	c := a.Citations[0]
	var doc struct{ Text string }
	st, b = e.do("", "GET", "/api/collections/docs/documents/"+c.DocID, nil)
	e.must(st, b, 200, &doc)
	if doc.Text != appDoc || doc.Text[c.Start:c.End] != c.Text {
		t.Fatalf("cited [%d:%d] %q; document text %q", c.Start, c.End, c.Text, doc.Text)
	}
	// With the uploaded file gone, the text is pieced together from the
	// chunks, at the same offsets.
	if err := os.Remove(filepath.Join(e.s.uploadDir("docs"), "eiffel.md")); err != nil {
		t.Fatal(err)
	}
	st, b = e.do("", "GET", "/api/collections/docs/documents/"+c.DocID, nil)
	e.must(st, b, 200, &doc)
	if len(doc.Text) < c.End || doc.Text[c.Start:c.End] != c.Text {
		t.Fatalf("from the chunks: %q", doc.Text)
	}
	var stored storedAnswerJSON
	st, b = e.do("", "GET", "/api/answers/"+a.AnswerID, nil)
	e.must(st, b, 200, &stored)
	if stored.Question != "How tall is the Eiffel Tower?" || stored.Answer != a.Answer || len(stored.Citations) != len(a.Citations) {
		t.Fatalf("stored answer %s", b)
	}

	// A streamed answer: deltas, then the whole answer, then [DONE].
	st, b = e.do("", "POST", "/api/ask", map[string]any{"collection": "docs", "question": "Who designed the tower?", "stream": true})
	if st != 200 {
		t.Fatalf("stream: %d %s", st, b)
	}
	deltas, final := readAskStream(t, b)
	if final.AnswerID == "" || deltas != final.Answer || !strings.Contains(final.Answer, "Gustave Eiffel") {
		t.Fatalf("streamed %q, final %+v", deltas, final)
	}

	// Feedback: a thumbs up on the first answer, a correction on the second.
	var fb struct {
		ID     int64
		Rating int
	}
	st, b = e.do("", "POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "thumbs": "up", "tags": []string{"height"}})
	e.must(st, b, 201, &fb)
	if fb.ID == 0 || fb.Rating != 5 {
		t.Fatalf("feedback %s", b)
	}
	st, b = e.do("", "POST", "/api/feedback", map[string]any{"answer_id": final.AnswerID, "rating": 2, "correction": "Gustave Eiffel's company designed it."})
	e.must(st, b, 201, nil)

	var rows struct {
		Feedback []struct {
			Rating                       int
			Question, Answer, Collection string
			Tags                         []string
		}
	}
	st, b = e.do("", "GET", "/api/feedback?collection=docs&min_rating=4", nil)
	e.must(st, b, 200, &rows)
	if len(rows.Feedback) != 1 || rows.Feedback[0].Question != "How tall is the Eiffel Tower?" || rows.Feedback[0].Tags[0] != "height" {
		t.Fatalf("feedback list %s", b)
	}
	st, b = e.do("", "GET", "/api/feedback?tag=height", nil)
	e.must(st, b, 200, &rows)
	if len(rows.Feedback) != 1 {
		t.Fatalf("by tag %s", b)
	}

	// Exports: two supervised examples (the good answer, the correction)
	// and one pair (the correction over the answer it corrects).
	st, b = e.do("", "GET", "/api/feedback/export?format=sft&collection=docs", nil)
	if st != 200 {
		t.Fatalf("export: %d %s", st, b)
	}
	lines := jsonLines(t, b)
	if len(lines) != 2 {
		t.Fatalf("sft export %s", b)
	}
	for _, l := range lines {
		msgs := l["messages"].([]any)
		last := msgs[len(msgs)-1].(map[string]any)
		user := msgs[len(msgs)-2].(map[string]any)
		if last["role"] != "assistant" || !strings.Contains(user["content"].(string), "<passages>") {
			t.Errorf("sft record %v", l)
		}
	}
	st, b = e.do("", "GET", "/api/feedback/export?format=dpo", nil)
	lines = jsonLines(t, b)
	if st != 200 || len(lines) != 1 || lines[0]["chosen"] == nil || lines[0]["rejected"] == nil {
		t.Fatalf("dpo export %d %s", st, b)
	}

	st, b = e.do("", "DELETE", "/api/collections/docs", nil)
	e.must(st, b, 204, nil)
	st, b = e.do("", "POST", "/api/ask", map[string]any{"collection": "docs", "question": "How tall?"})
	e.must(st, b, 404, nil)
	// the feedback stays: it is training data
	st, b = e.do("", "GET", "/api/feedback", nil)
	e.must(st, b, 200, &rows)
	if len(rows.Feedback) != 2 {
		t.Fatalf("after delete: %s", b)
	}
}

// readAskStream reads an /api/ask event stream: the deltas joined and
// the final answer.
func readAskStream(t *testing.T, body []byte) (string, askResult) {
	t.Helper()
	var deltas strings.Builder
	var final askResult
	done := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var ev struct{ Type, Text string }
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		switch ev.Type {
		case "delta":
			deltas.WriteString(ev.Text)
		case "answer":
			json.Unmarshal([]byte(data), &final)
		default:
			t.Fatalf("event %s", data)
		}
	}
	if !done {
		t.Fatalf("no [DONE] in %s", body)
	}
	return deltas.String(), final
}

func jsonLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// TestAppOwnership: collections, answers, feedback and jobs belong to
// the key that made them; another user key gets 404, an admin key sees
// everything.
func TestAppOwnership(t *testing.T) {
	e := newAppEnv(t, Config{}, "root:admin", "alice:user", "bob:user")
	e.collectionWithDoc("alice", "alice-docs")
	var a askResult
	st, b := e.do("alice", "POST", "/api/ask", map[string]any{"collection": "alice-docs", "question": "How tall is the tower?"})
	e.must(st, b, 200, &a)
	st, b = e.do("alice", "POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "rating": 4})
	e.must(st, b, 201, nil)

	notFound := []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/collections/alice-docs", nil},
		{"DELETE", "/api/collections/alice-docs", nil},
		{"GET", "/api/collections/alice-docs/documents", nil},
		{"GET", "/api/collections/alice-docs/documents/" + "x", nil},
		{"POST", "/api/ask", map[string]any{"collection": "alice-docs", "question": "How tall?"}},
		{"GET", "/api/answers/" + a.AnswerID, nil},
		{"POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "rating": 1}},
		{"GET", "/api/feedback?collection=alice-docs", nil},
		{"GET", "/api/feedback/export?collection=alice-docs", nil},
		{"POST", "/api/jobs", map[string]any{"kind": "tune", "model": "m", "from_feedback": "alice-docs"}},
	}
	for _, nf := range notFound {
		st, b := e.do("bob", nf.method, nf.path, nf.body)
		if nf.path == "/api/jobs" {
			// bob may not name a model file; with a served model he would get 404
			if st != 400 && st != 404 {
				t.Errorf("bob %s %s: %d %s", nf.method, nf.path, st, b)
			}
			continue
		}
		if st != 404 {
			t.Errorf("bob %s %s: %d %s, want 404", nf.method, nf.path, st, b)
		}
	}
	st, b = e.upload("bob", "alice-docs", "file", "x.md", []byte("# x\n\nhello"))
	if st != 404 {
		t.Errorf("bob uploads to alice's collection: %d %s", st, b)
	}
	var list struct{ Collections []collectionJSON }
	st, b = e.do("bob", "GET", "/api/collections", nil)
	e.must(st, b, 200, &list)
	if len(list.Collections) != 0 {
		t.Errorf("bob sees %s", b)
	}
	var rows struct{ Feedback []json.RawMessage }
	st, b = e.do("bob", "GET", "/api/feedback", nil)
	e.must(st, b, 200, &rows)
	if len(rows.Feedback) != 0 {
		t.Errorf("bob sees feedback %s", b)
	}
	// the admin sees and uses everything
	for _, as := range []string{"alice", "root"} {
		st, b = e.do(as, "GET", "/api/collections", nil)
		e.must(st, b, 200, &list)
		st2, b2 := e.do(as, "GET", "/api/feedback?collection=alice-docs", nil)
		e.must(st2, b2, 200, &rows)
		if len(list.Collections) != 1 || list.Collections[0].Owner != "alice" || len(rows.Feedback) != 1 {
			t.Errorf("%s sees %s and %s", as, b, b2)
		}
	}
	st, b = e.do("root", "POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "rating": 1})
	e.must(st, b, 201, nil)
	// without a key: 401
	st, b = e.do("", "GET", "/api/collections", nil)
	e.must(st, b, 401, nil)
}
