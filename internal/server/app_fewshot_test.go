package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"flywheel/internal/llm"
)

// promptRecorder is a model that answers "It is 330 metres tall [1]." and
// keeps the last prompt it was sent.
type promptRecorder struct {
	mu   sync.Mutex
	last string
}

func (m *promptRecorder) Chat(_ context.Context, req llm.Request, stream func(string) error) (*llm.Response, error) {
	var b strings.Builder
	for _, msg := range req.Conversation() {
		b.WriteString(msg.Content)
		b.WriteString("\n")
	}
	m.mu.Lock()
	m.last = b.String()
	m.mu.Unlock()
	text := "It is 330 metres tall [1]."
	if stream != nil {
		if err := stream(text); err != nil {
			return nil, err
		}
	}
	return &llm.Response{Model: "recorder", Text: text, FinishReason: llm.FinishStop,
		Logprobs: []llm.Logprob{{TokenLogprob: llm.TokenLogprob{Token: text, Logprob: -0.01}}}}, nil
}

func (m *promptRecorder) prompt() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// TestAskFewShotFromFeedback: with Answer.FewShot, a correction given to
// one answer becomes a worked example in the prompt of a similar question.
func TestAskFewShotFromFeedback(t *testing.T) {
	for _, fewShot := range []bool{false, true} {
		m := &promptRecorder{}
		e := newAppEnv(t, Config{Model: m, Answer: AnswerConfig{FewShot: fewShot}})
		e.collectionWithDoc("", "docs")
		var first askResult
		st, b := e.do("", "POST", "/api/ask", map[string]any{"collection": "docs", "question": "How tall is the Eiffel Tower?"})
		e.must(st, b, http.StatusOK, &first)
		st, b = e.do("", "POST", "/api/feedback", map[string]any{"answer_id": first.AnswerID, "rating": 2,
			"correction": "The Eiffel Tower is 330 metres tall, antennas included [1]."})
		e.must(st, b, http.StatusCreated, nil)

		st, b = e.do("", "POST", "/api/ask", map[string]any{"collection": "docs", "question": "How tall is the tower in Paris?"})
		e.must(st, b, http.StatusOK, nil)
		has := strings.Contains(m.prompt(), "antennas included")
		if has != fewShot {
			t.Errorf("FewShot %v: the correction is in the next prompt: %v\n%s", fewShot, has, m.prompt())
		}
	}
}
