package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// MaxEmbeddingInputs bounds the texts of one embeddings request (OpenAI's
// limit).
const MaxEmbeddingInputs = 2048

// EmbeddingRequest is a validated POST /v1/embeddings body.
type EmbeddingRequest struct {
	Model  string
	Inputs []string
	// Base64 sends each vector as base64 of its little-endian float32s
	// (encoding_format "base64") instead of an array of numbers.
	Base64 bool
	// Dimensions is the vector length the client asked for (0: any).
	Dimensions int
}

type embeddingWire struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
}

// DecodeEmbeddingRequest parses and validates an embeddings body. Its
// error is a *RequestError naming the field.
func DecodeEmbeddingRequest(body []byte) (EmbeddingRequest, error) {
	var w embeddingWire
	if err := decode(body, &w); err != nil {
		return EmbeddingRequest{}, err
	}
	r := EmbeddingRequest{Model: w.Model}
	switch w.EncodingFormat {
	case "", "float":
	case "base64":
		r.Base64 = true
	default:
		return r, badParam("encoding_format", "unknown format %q: use float or base64", w.EncodingFormat)
	}
	if w.Dimensions != nil {
		if *w.Dimensions < 1 {
			return r, badParam("dimensions", "%d: send a positive number or leave it out", *w.Dimensions)
		}
		r.Dimensions = *w.Dimensions
	}
	var err error
	r.Inputs, err = inputs(w.Input)
	return r, err
}

// inputs reads input: a string or an array of non-empty strings.
func inputs(raw json.RawMessage) ([]string, error) {
	if !notEmpty(raw) {
		return nil, badParam("input", "is required: send a string or an array of strings")
	}
	var many []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		many = []string{one}
	} else if err := json.Unmarshal(raw, &many); err != nil {
		return nil, badParam("input", "expected a string or an array of strings (token arrays are not supported: send the text)")
	}
	if len(many) > MaxEmbeddingInputs {
		return nil, badParam("input", "%d texts: send at most %d per request", len(many), MaxEmbeddingInputs)
	}
	for i, s := range many {
		if s == "" {
			return nil, badParam(fmt.Sprintf("input[%d]", i), "is empty: every text needs at least one character")
		}
	}
	return many, nil
}

// EmbeddingList is the body of an embeddings response.
type EmbeddingList struct {
	Object string         `json:"object"` // "list"
	Data   []Embedding    `json:"data"`
	Model  string         `json:"model"`
	Usage  EmbeddingUsage `json:"usage"`
}

// Embedding is the vector of input Index.
type Embedding struct {
	Object    string `json:"object"` // "embedding"
	Index     int    `json:"index"`
	Embedding Vector `json:"embedding"`
}

// EmbeddingUsage counts the tokens read.
type EmbeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// Vector is an embedding, encoded as an array of numbers or, with Base64,
// as base64 of its little-endian float32s.
type Vector struct {
	Values []float32
	Base64 bool
}

// MarshalJSON encodes the vector in its format.
func (v Vector) MarshalJSON() ([]byte, error) {
	if !v.Base64 {
		if v.Values == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(v.Values)
	}
	b := make([]byte, 4*len(v.Values))
	for i, x := range v.Values {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

// NewEmbeddingList builds the response to r from one vector per input.
// tokens is the number of tokens read (0 when the embedder does not say).
func (r EmbeddingRequest) NewEmbeddingList(model string, vectors [][]float32, tokens int) EmbeddingList {
	l := EmbeddingList{Object: "list", Model: model, Data: make([]Embedding, len(vectors)), Usage: EmbeddingUsage{tokens, tokens}}
	for i, v := range vectors {
		l.Data[i] = Embedding{Object: "embedding", Index: i, Embedding: Vector{Values: v, Base64: r.Base64}}
	}
	return l
}
