package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"flywheel/internal/llm"
	"flywheel/internal/openai"
)

// errorType names the OpenAI error type of an HTTP status.
func errorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

// writeError writes an error response in OpenAI's shape with status and
// a message that says what went wrong and what to do.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeErrorParam(w, status, msg, "", "")
}

// writeErrorParam is writeError naming the offending request field
// (param) and a machine-readable code; either may be "".
func writeErrorParam(w http.ResponseWriter, status int, msg, param, code string) {
	writeJSON(w, status, openai.NewError(errorType(status), msg, param, code))
}

// writeRetryAfter writes a 429 telling the client to retry after secs
// seconds.
func writeRetryAfter(w http.ResponseWriter, secs int, msg string) {
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, msg)
}

// writeJSON writes v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// readJSON decodes the request body, one JSON value, into v. On failure
// it writes the error — 413 for a body over the limit, 400 naming the
// byte offset of malformed JSON or the field of a wrong type — and
// returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := readBody(w, r)
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("data after the JSON value at byte %d: send one JSON object", dec.InputOffset()))
			return false
		}
		return true
	}
	writeError(w, http.StatusBadRequest, jsonErrorMessage(len(body), err))
	return false
}

// readBody reads the request body whole; on failure (413 past the limit)
// it writes the error and returns false.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeBodyError(w, err)
		return nil, false
	}
	return body, true
}

// writeBodyError writes the error of reading a request body: 413 when it
// is over the limit (see Limits), 400 otherwise.
func writeBodyError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than the limit of %d bytes; send a smaller body (the server's limit is set with --max-body / --max-upload)", tooBig.Limit))
		return
	}
	writeError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
}

// jsonErrorMessage says where a JSON body of n bytes is wrong, from the
// error of a json.Decoder: the byte offset of a syntax error, the field of
// a value of the wrong type.
func jsonErrorMessage(n int, err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == io.EOF:
		return "the body is empty: send a JSON object"
	case err == io.ErrUnexpectedEOF:
		return fmt.Sprintf("the JSON ends early (after %d bytes): send a complete JSON object", n)
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON near byte %d: %v; send a JSON object", syntax.Offset, err)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("field %q: expected %s, got JSON %s (near byte %d)", typ.Field, typ.Type, typ.Value, typ.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("expected a JSON %s, got JSON %s", typ.Type, typ.Value)
	}
	return "malformed JSON: " + err.Error()
}

// writeGenerationError answers a failed model or embedder call: 429 with
// Retry-After when the generation queue is full, 404 for a model that is
// not served, 502 for an upstream's failure, 504 for a timeout, and 500
// for the rest. A client that went away gets nothing (logged as 499).
func (s *Server) writeGenerationError(w http.ResponseWriter, err error) {
	var upstream *llm.StatusError
	switch {
	case errors.Is(err, errQueueFull):
		writeRetryAfter(w, s.queue.retryAfter(), err.Error()+": retry after the time in the Retry-After header")
	case errors.Is(err, llm.ErrUnknownModel):
		writeErrorParam(w, http.StatusNotFound, err.Error()+"; GET /v1/models lists the models served here", "model", "model_not_found")
	case errors.Is(err, llm.ErrOverBudget):
		writeErrorParam(w, http.StatusTooManyRequests, err.Error(), "", "insufficient_quota")
	case errors.Is(err, llm.ErrNoRoute), errors.Is(err, llm.ErrInvalidRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, context.Canceled):
		w.WriteHeader(statusClientClosed)
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusGatewayTimeout, "the model did not answer in time: "+err.Error())
	case errors.As(err, &upstream):
		writeError(w, upstreamStatus(upstream.StatusCode), "upstream model: "+err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "generation failed: "+err.Error())
	}
}

// statusClientClosed is logged for a request whose client went away
// before the answer (nginx's convention).
const statusClientClosed = 499

// upstreamStatus is the status to answer when an upstream endpoint
// answered code: the client's own mistakes pass through, the upstream's
// failures (its key, its limits, its errors) are a bad gateway.
func upstreamStatus(code int) int {
	switch code {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		return code
	}
	return http.StatusBadGateway
}
