package upstream

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxWait caps a Retry-After: an endpoint asking for longer is treated as
// asking for a minute.
const maxWait = time.Minute

// RetryAfter reads Retry-After (seconds or an HTTP date) or
// Retry-After-Ms, capped at a minute; 0 when absent or unreadable.
func RetryAfter(h http.Header) time.Duration {
	var d time.Duration
	if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After-Ms")), 64); err == nil && ms > 0 {
		d = time.Duration(ms * float64(time.Millisecond))
	} else if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
			d = time.Duration(s * float64(time.Second))
		} else if t, err := http.ParseTime(v); err == nil {
			d = time.Until(t)
		}
	}
	return min(max(d, 0), maxWait)
}

// Message extracts {"error": {"message": …}} (or {"error": "…"}) from an
// error body, or else its first 200 bytes.
func Message(raw []byte) string {
	if msg := ErrorObject(raw); msg != "" {
		return msg
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

// ErrorObject is the message of an OpenAI error object in raw, "" when raw
// holds none.
func ErrorObject(raw []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || len(e.Error) == 0 || string(e.Error) == "null" {
		return ""
	}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(e.Error, &obj) == nil && obj.Message != "" {
		return obj.Message
	}
	var s string
	if json.Unmarshal(e.Error, &s) == nil && s != "" {
		return s
	}
	return string(e.Error)
}
