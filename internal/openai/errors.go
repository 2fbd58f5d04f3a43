package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// RequestError is a request body that cannot be served as sent: Param
// names the field ("messages[1].content", "" for the body as a whole) and
// Message says what is wrong and what to send instead.
type RequestError struct {
	Param   string
	Message string
}

func (e *RequestError) Error() string {
	if e.Param == "" {
		return e.Message
	}
	return e.Param + ": " + e.Message
}

func badParam(param, format string, args ...any) *RequestError {
	return &RequestError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// ErrorResponse is the body of every error: {"error": {...}}.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is OpenAI's error object; Param and Code are null when nil.
type ErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// NewError returns an error body; empty param and code are sent as null.
func NewError(typ, msg, param, code string) ErrorResponse {
	e := ErrorResponse{Error: ErrorDetail{Message: msg, Type: typ}}
	if param != "" {
		e.Error.Param = &param
	}
	if code != "" {
		e.Error.Code = &code
	}
	return e
}

// decode unmarshals a request body (one JSON value) into v, turning JSON
// errors into RequestErrors that say where the body is wrong.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return badParam("", "data after the JSON object at byte %d: send one JSON object", dec.InputOffset())
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == io.EOF:
		return badParam("", "the body is empty: send a JSON object")
	case err == io.ErrUnexpectedEOF:
		return badParam("", "the JSON ends early (after %d bytes): send a complete JSON object", len(body))
	case errors.As(err, &syntax):
		return badParam("", "malformed JSON near byte %d: %v; send a JSON object", syntax.Offset, syntax)
	case errors.As(err, &typ) && typ.Field == "":
		return badParam("", "the body is a JSON %s; send a JSON object", typ.Value)
	case errors.As(err, &typ):
		return badParam(typ.Field, "expected %s, got JSON %s (near byte %d)", jsonTypeName(typ.Type.Kind().String()), typ.Value, typ.Offset)
	}
	return badParam("", "malformed JSON: %v", err)
}

// jsonTypeName names a Go kind as JSON calls it.
func jsonTypeName(kind string) string {
	switch kind {
	case "int", "int64", "uint64", "float64", "float32", "int32":
		return "a number"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return kind
}
