package openai

import (
	"bytes"
	"encoding/json"
	"io"
)

// WriteEvent writes v as one server-sent event, "data: <json>\n\n", in one
// Write.
func WriteEvent(w io.Writer, v any) error {
	var b bytes.Buffer
	b.WriteString("data: ")
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // Encode ends the line
		return err
	}
	b.WriteString("\n")
	_, err := w.Write(b.Bytes())
	return err
}

// WriteDone writes the event that ends a stream: "data: [DONE]".
func WriteDone(w io.Writer) error {
	_, err := io.WriteString(w, "data: [DONE]\n\n")
	return err
}
