package server

import (
	"errors"
	"net/http"

	"flywheel/internal/openai"
)

// eventStream writes server-sent events, each flushed at once. Its
// headers (and status 200) go out with the first event, so that a request
// that fails before it still gets an ordinary error response.
type eventStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func newEventStream(w http.ResponseWriter) *eventStream {
	return &eventStream{w: w, rc: http.NewResponseController(w)}
}

// start sends the headers of the stream.
func (e *eventStream) start() {
	if e.started {
		return
	}
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // tell proxies not to buffer
	e.w.WriteHeader(http.StatusOK)
	e.started = true
}

// send writes v as one event.
func (e *eventStream) send(v any) error {
	e.start()
	if err := openai.WriteEvent(e.w, v); err != nil {
		return err
	}
	return e.flush()
}

// done ends the stream with [DONE].
func (e *eventStream) done() error {
	e.start()
	if err := openai.WriteDone(e.w); err != nil {
		return err
	}
	return e.flush()
}

func (e *eventStream) flush() error {
	if err := e.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// fail ends the stream with an error event (no [DONE]): OpenAI's clients
// raise it as the stream's error.
func (e *eventStream) fail(err error) {
	e.send(openai.NewError("server_error", "generation failed: "+err.Error(), "", ""))
}
