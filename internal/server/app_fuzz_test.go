package server

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// appFuzzEndpoints are the JSON endpoints FuzzAppRequests posts to.
var appFuzzEndpoints = []string{"/api/collections", "/api/ask", "/api/feedback", "/api/jobs"}

// FuzzAppRequests posts arbitrary bodies to the application's JSON
// endpoints: no request may fail the server (5xx) or get a 4xx without
// a message in the error shape.
func FuzzAppRequests(f *testing.F) {
	e := newAppEnv(f, Config{})
	e.collectionWithDoc("", "docs")
	seeds := []string{
		`{"name":"new"}`, `{"name":5}`, `{`, `{"collection":"docs","question":"How tall is the tower?"}`,
		`{"collection":"docs","question":"Who built it?","stream":true}`, `{"answer_id":"ans_x","rating":4}`,
		`{"answer_id":"ans_x","thumbs":"down","tags":["a"],"correction":"c"}`, `{"model":"m","from_feedback":"docs","options":{"lr":2}}`,
		`[]`, `null`, `{"question":"\u0000"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	h := e.s.Handler()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := appFuzzEndpoints[int(which)%len(appFuzzEndpoints)]
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkFuzzResponse(t, path, body, rec)
	})
}

// FuzzAppUpload uploads files with arbitrary names and contents.
func FuzzAppUpload(f *testing.F) {
	e := newAppEnv(f, Config{Limits: Limits{MaxUpload: 1 << 20}})
	st, b := e.do("", "POST", "/api/collections", map[string]string{"name": "docs"})
	e.must(st, b, 201, nil)
	for _, s := range []struct{ name, data string }{
		{"a.md", "# A\n\ntext"}, {"../../x.txt", "hello"}, {`C:\x\y.html`, "<p>hi</p>"}, {"r.jsonl", `{"id":"1","text":"t"}`},
		{"p.pdf", "%PDF-1.4 nonsense"}, {"..", ""}, {".md", "x"},
	} {
		f.Add(s.name, []byte(s.data))
	}
	h := e.s.Handler()
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			return
		}
		fw.Write(data)
		mw.Close()
		req := httptest.NewRequest("POST", "/api/collections/docs/documents", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkFuzzResponse(t, "upload "+name, data, rec)
		if rec.Code == http.StatusCreated {
			var ok struct{ File string }
			json.Unmarshal(rec.Body.Bytes(), &ok)
			if ok.File == "" || strings.ContainsAny(ok.File, `/\`) || strings.HasPrefix(ok.File, ".") {
				t.Fatalf("upload %q kept as %q", name, ok.File)
			}
		}
	})
}

func checkFuzzResponse(t *testing.T, what string, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s %q: %d %s", what, body, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var msg struct{ Error struct{ Message string } }
		if json.Unmarshal(rec.Body.Bytes(), &msg) != nil || msg.Error.Message == "" {
			t.Fatalf("%s %q: %d without a message: %s", what, body, rec.Code, rec.Body)
		}
	}
}

func TestSafeFileName(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"notes.md", "notes.md"}, {"../../x.md", "x.md"}, {"/etc/passwd.txt", "passwd.txt"}, {`..\..\w.md`, "w.md"},
		{"a|b.md", "a_b.md"}, {"  spaced.md ", "spaced.md"}, {"résumé.md", "résumé.md"},
		{"", ""}, {".", ""}, {"..", ""}, {"x/", ""}, {".env", ""}, {"a\x7fb.md", ""}, {"\xff.md", ""},
	}
	for _, tt := range tests {
		got, err := safeFileName(tt.raw)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("safeFileName(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}
