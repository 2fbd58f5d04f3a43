package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppBadInput sends bad requests to every application endpoint: each
// gets a 4xx whose message says what is wrong.
func TestAppBadInput(t *testing.T) {
	e := newAppEnv(t, Config{Limits: Limits{MaxUpload: 64 << 10}})
	e.collectionWithDoc("", "docs")
	var a askResult
	st, b := e.do("", "POST", "/api/ask", map[string]any{"collection": "docs", "question": "How tall is the tower?"})
	e.must(st, b, 200, &a)

	tests := []struct {
		method, path string
		body         any
		status       int
		says         string
	}{
		{"POST", "/api/collections", []byte(`{`), 400, "ends early"},
		{"POST", "/api/collections", []byte(`{"name": 5}`), 400, `field "name"`},
		{"POST", "/api/collections", []byte(`{} {}`), 400, "data after the JSON value"},
		{"POST", "/api/collections", []byte(``), 400, "empty"},
		{"POST", "/api/collections", map[string]any{}, 400, `"name" is missing`},
		{"POST", "/api/collections", map[string]any{"name": "../x"}, 400, "use letters"},
		{"POST", "/api/collections", map[string]any{"name": "docs"}, 409, "already exists"},
		{"POST", "/api/collections", []byte(`{"name":"` + strings.Repeat("x", 2<<20) + `"}`), 413, "larger than the limit"},
		{"GET", "/api/collections/nope", nil, 404, "not found"},
		{"DELETE", "/api/collections/nope", nil, 404, "not found"},
		{"GET", "/api/collections/docs/documents/nope", nil, 404, "no document"},
		{"PUT", "/api/collections", nil, 405, "does not take PUT"},
		{"GET", "/api/nothing", nil, 404, "no such endpoint"},

		{"POST", "/api/ask", map[string]any{"question": "q"}, 400, `"collection" is missing`},
		{"POST", "/api/ask", map[string]any{"collection": "docs", "question": "  "}, 400, `"question" is missing`},
		{"POST", "/api/ask", map[string]any{"collection": "docs", "question": strings.Repeat("why ", 1001)}, 400, "over the limit"},
		{"POST", "/api/ask", map[string]any{"collection": "docs", "question": "q", "stream": "yes"}, 400, `field "stream"`},
		{"POST", "/api/ask", map[string]any{"collection": "nope", "question": "q"}, 404, "not found"},
		{"POST", "/api/ask", []byte(`["docs"]`), 400, "expected"},

		{"POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "rating": 9}, 400, "out of range"},
		{"POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "thumbs": "sideways"}, 400, `"up" or "down"`},
		{"POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID}, 400, "give a rating"},
		{"POST", "/api/feedback", map[string]any{"rating": 3}, 400, "answer_id"},
		{"POST", "/api/feedback", map[string]any{"answer_id": "ans_nope", "rating": 3}, 404, "not found"},
		{"POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "rating": 3, "tags": "a"}, 400, `field "tags"`},
		{"POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "rating": 3, "tags": []string{"a,b"}}, 400, "tag"},
		{"POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "rating": 3.5}, 400, `field "rating"`},
		{"POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "rating": 1, "correction": strings.Repeat("x", 17<<10)}, 400, "over the limit"},
		{"GET", "/api/feedback?min_rating=abc", nil, 400, "min_rating"},
		{"GET", "/api/feedback?max_rating=9", nil, 400, "max_rating"},
		{"GET", "/api/feedback?min_rating=4&max_rating=2", nil, 400, "above max_rating"},
		{"GET", "/api/feedback?since=yesterday", nil, 400, "since"},
		{"GET", "/api/feedback?limit=0", nil, 400, "limit"},
		{"GET", "/api/feedback?tag=a%20b", nil, 400, "tag"},
		{"GET", "/api/feedback?collection=nope", nil, 200, ""}, // an admin may list the feedback of a deleted collection
		{"GET", "/api/feedback/export?format=xml", nil, 400, "sft"},
		{"GET", "/api/feedback/export?format=sft&as=kto", nil, 400, "as="},

		{"POST", "/api/jobs", map[string]any{"kind": "eval", "model": "m", "from_feedback": "docs"}, 400, `"tune"`},
		{"POST", "/api/jobs", map[string]any{"from_feedback": "docs"}, 400, `"model" is missing`},
		{"POST", "/api/jobs", map[string]any{"model": "/no/such/model.gguf", "from_feedback": "docs"}, 400, "neither a served name nor a file"},
		{"POST", "/api/jobs", map[string]any{"model": "app_test.go", "data": "x", "from_feedback": "docs"}, 400, "either"},
		{"POST", "/api/jobs", map[string]any{"model": "app_test.go", "from_feedback": "nope"}, 404, "not found"},
		{"POST", "/api/jobs", map[string]any{"model": "app_test.go", "from_feedback": "docs", "options": map[string]any{"lr": -1}}, 400, "options.lr"},
		{"POST", "/api/jobs", map[string]any{"model": "app_test.go", "from_feedback": "docs", "options": map[string]any{"schedule": "zigzag"}}, 400, "schedule"},
		{"POST", "/api/jobs", map[string]any{"model": "app_test.go", "from_feedback": "docs", "options": map[string]any{"max_steps": "10"}}, 400, "max_steps"},
		{"GET", "/api/jobs/job_nope", nil, 404, "not found"},
		{"POST", "/api/jobs/job_nope/cancel", nil, 404, "not found"},
		{"GET", "/api/jobs/job_nope/events", nil, 404, "not found"},

		{"GET", "/api/evals/nope/report.html", nil, 404, "no report.html"},
		{"GET", "/api/evals/nope/secrets.txt", nil, 404, "not \"secrets.txt\""},
		{"GET", "/api/evals/..%2f..%2fflywheel.db/report.json", nil, 400, "eval run name"},
	}
	for _, tt := range tests {
		st, b := e.do("", tt.method, tt.path, tt.body)
		var msg struct{ Error struct{ Message string } }
		json.Unmarshal(b, &msg)
		if st != tt.status || !strings.Contains(msg.Error.Message, tt.says) {
			t.Errorf("%s %s: %d %.300s; want %d saying %q", tt.method, tt.path, st, b, tt.status, tt.says)
		}
	}
}

// TestAppUploads sends good and bad files: path tricks in names are
// reduced to a base name inside the collection's upload directory, and
// what cannot be a document is refused.
func TestAppUploads(t *testing.T) {
	e := newAppEnv(t, Config{Limits: Limits{MaxUpload: 64 << 10}})
	st, b := e.do("", "POST", "/api/collections", map[string]string{"name": "docs"})
	e.must(st, b, 201, nil)
	text := []byte("# Notes\n\nA short note about lighthouses.\n")
	tests := []struct {
		field, name string
		data        []byte
		status      int
		file        string // the name kept, or what the error says
	}{
		{"file", "notes.md", text, 201, "notes.md"},
		{"file", "../../../../etc/passwd.md", text, 201, "passwd.md"},
		{"file", "/abs/path/note.txt", text, 201, "note.txt"},
		{"file", `C:\Users\me\win.md`, text, 201, "win.md"},
		{"file", "a:b?.md", text, 201, "a_b_.md"},
		{"file", "..", text, 400, "names no file"},
		{"file", "dir/..", text, 400, "names no file"},
		{"file", ".hidden.md", text, 400, "starts with a dot"},
		{"file", "bad\x01name.md", text, 400, "malformed MIME header"}, // refused by the multipart reader
		{"file", "", text, 400, "no file name"},
		{"file", strings.Repeat("n", 250) + ".md", text, 400, "longer than 200"},
		{"file", "tool.exe", text, 415, "unsupported file type"},
		{"file", "blob.txt", []byte("ab\x00cd"), 415, "binary"},
		{"file", "fake.pdf", text, 415, "not a PDF"},
		{"file", "empty.md", nil, 400, "empty"},
		{"file", "big.md", []byte(strings.Repeat("word ", 20<<10)), 413, "larger than the limit"},
		{"document", "notes.md", text, 400, `no field "file"`},
		{"file", "bad.jsonl", []byte("{not json}\n"), 422, "bad.jsonl"},
	}
	for _, tt := range tests {
		st, b := e.upload("", "docs", tt.field, tt.name, tt.data)
		var ok struct{ File string }
		var bad struct{ Error struct{ Message string } }
		json.Unmarshal(b, &ok)
		json.Unmarshal(b, &bad)
		if st != tt.status || (st == 201 && ok.File != tt.file) || (st != 201 && !strings.Contains(bad.Error.Message, tt.file)) {
			t.Errorf("upload %q: %d %.300s; want %d %q", tt.name, st, b, tt.status, tt.file)
		}
	}
	// Only the kept files are there, all inside the upload directory.
	var kept []string
	filepath.WalkDir(e.st.Dir(), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(path, "uploads") {
			rel, _ := filepath.Rel(e.s.uploadDir("docs"), path)
			kept = append(kept, rel)
		}
		return nil
	})
	if strings.Join(kept, " ") != "a_b_.md note.txt notes.md passwd.md win.md" {
		t.Errorf("upload directory holds %v", kept)
	}
	// A request that is not multipart.
	st, b = e.do("", "POST", "/api/collections/docs/documents", map[string]string{"file": "x"})
	if st != 415 {
		t.Errorf("JSON upload: %d %s", st, b)
	}
}
