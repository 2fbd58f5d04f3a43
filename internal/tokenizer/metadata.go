package tokenizer

import (
	"fmt"
	"slices"
)

// Metadata is the key/value view of a model file the tokenizer is built
// from. A GGUF file satisfies it through an adapter in the loader; each
// method reports false when the key is missing or holds another type.
type Metadata interface {
	String(key string) (string, bool)
	Strings(key string) ([]string, bool)
	Float32s(key string) ([]float32, bool)
	Int32s(key string) ([]int32, bool)
	Uint(key string) (uint64, bool)
	Bool(key string) (bool, bool)
}

// GGUF metadata keys the tokenizer reads.
const (
	KeyModel          = "tokenizer.ggml.model"
	KeyTokens         = "tokenizer.ggml.tokens"
	KeyScores         = "tokenizer.ggml.scores"
	KeyTokenType      = "tokenizer.ggml.token_type"
	KeyBOS            = "tokenizer.ggml.bos_token_id"
	KeyEOS            = "tokenizer.ggml.eos_token_id"
	KeyEOT            = "tokenizer.ggml.eot_token_id"
	KeyEOM            = "tokenizer.ggml.eom_token_id"
	KeyUNK            = "tokenizer.ggml.unknown_token_id"
	KeyPAD            = "tokenizer.ggml.padding_token_id"
	KeyAddBOS         = "tokenizer.ggml.add_bos_token"
	KeyAddEOS         = "tokenizer.ggml.add_eos_token"
	KeyAddSpacePrefix = "tokenizer.ggml.add_space_prefix"
)

// FromMetadata builds the tokenizer a model file describes under the
// tokenizer.ggml.* keys. Supported models: "llama" (SentencePiece BPE).
//
// A special-token id that is missing or out of range keeps the model's
// default (LLaMA: unk 0, bos 1, eos 2, no pad), as llama.cpp does.
func FromMetadata(md Metadata) (*Tokenizer, error) {
	name, ok := md.String(KeyModel)
	if !ok {
		return nil, fmt.Errorf("tokenizer: metadata key %s is missing: the file has no vocabulary (a vocabulary-less model needs a separate tokenizer)", KeyModel)
	}
	if name != "llama" {
		return nil, fmt.Errorf("tokenizer: unsupported tokenizer model %q (supported: llama)", name)
	}

	pieces, ok := md.Strings(KeyTokens)
	if !ok || len(pieces) == 0 {
		return nil, fmt.Errorf("tokenizer: metadata key %s is missing or empty: the file has no vocabulary", KeyTokens)
	}
	n := len(pieces)
	s := spec{
		pieces:         slices.Clone(pieces),
		bos:            1,
		eos:            2,
		unk:            0,
		pad:            -1,
		eot:            -1,
		eom:            -1,
		addBOS:         true,
		addEOS:         false,
		addSpacePrefix: true,
	}
	if scores, ok := md.Float32s(KeyScores); ok {
		if len(scores) != n {
			return nil, fmt.Errorf("tokenizer: %s has %d entries but %s has %d: the vocabulary is inconsistent", KeyScores, len(scores), KeyTokens, n)
		}
		s.scores = slices.Clone(scores)
	}
	if types, ok := md.Int32s(KeyTokenType); ok {
		if len(types) != n {
			return nil, fmt.Errorf("tokenizer: %s has %d entries but %s has %d: the vocabulary is inconsistent", KeyTokenType, len(types), KeyTokens, n)
		}
		s.types = make([]TokenType, n)
		for i, v := range types {
			tt := TokenType(v)
			if tt < TypeUndefined || tt > TypeByte {
				tt = TypeUndefined
			}
			s.types[i] = tt
		}
	}
	for _, k := range []struct {
		key string
		id  *int
	}{{KeyBOS, &s.bos}, {KeyEOS, &s.eos}, {KeyUNK, &s.unk}, {KeyPAD, &s.pad}, {KeyEOT, &s.eot}, {KeyEOM, &s.eom}} {
		if v, ok := md.Uint(k.key); ok && v < uint64(n) {
			*k.id = int(v)
		}
	}
	for _, k := range []struct {
		key  string
		flag *bool
	}{{KeyAddBOS, &s.addBOS}, {KeyAddEOS, &s.addEOS}, {KeyAddSpacePrefix, &s.addSpacePrefix}} {
		if v, ok := md.Bool(k.key); ok {
			*k.flag = v
		}
	}
	return build(s, newSPM(s.addSpacePrefix))
}
