package upstream

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		header, value string
		want          time.Duration
	}{
		{"Retry-After", "2", 2 * time.Second},
		{"Retry-After", "0.5", 500 * time.Millisecond},
		{"Retry-After", "3600", time.Minute},
		{"Retry-After", "soon", 0},
		{"Retry-After-Ms", "250", 250 * time.Millisecond},
		{"Retry-After", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0},
	} {
		h := http.Header{}
		h.Set(tc.header, tc.value)
		if got := RetryAfter(h); got != tc.want {
			t.Errorf("%s: %s → %v, want %v", tc.header, tc.value, got, tc.want)
		}
	}
}

func TestMessage(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"error": {"message": "rate limited", "type": "requests"}}`, "rate limited"},
		{`{"error": "model not loaded"}`, "model not loaded"},
		{`{"error": {"code": 7}}`, `{"code": 7}`},
		{`<html>Bad Gateway</html>`, "<html>Bad Gateway</html>"},
		{``, "(empty body)"},
		{strings.Repeat("x", 300), strings.Repeat("x", 200) + "…"},
	} {
		if got := Message([]byte(tc.body)); got != tc.want {
			t.Errorf("%q → %q, want %q", tc.body, got, tc.want)
		}
	}
}
