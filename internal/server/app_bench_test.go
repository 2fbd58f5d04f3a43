package server

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// BenchmarkAppAsk measures one extractive /api/ask through the handler,
// answer storage included.
func BenchmarkAppAsk(b *testing.B) {
	e := newAppEnv(b, Config{})
	e.collectionWithDoc("", "docs")
	h := e.s.Handler()
	body := []byte(`{"collection":"docs","question":"How tall is the Eiffel Tower?"}`)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/ask", bytes.NewReader(body)))
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

// BenchmarkAppFeedback measures one POST /api/feedback (a committed
// row).
func BenchmarkAppFeedback(b *testing.B) {
	e := newAppEnv(b, Config{})
	e.collectionWithDoc("", "docs")
	var a askResult
	st, body := e.do("", "POST", "/api/ask", map[string]any{"collection": "docs", "question": "How tall is the tower?"})
	e.must(st, body, 200, &a)
	h := e.s.Handler()
	fb := []byte(`{"answer_id":"` + a.AnswerID + `","rating":4,"tags":["bench"]}`)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/feedback", bytes.NewReader(fb)))
		if rec.Code != 201 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}
