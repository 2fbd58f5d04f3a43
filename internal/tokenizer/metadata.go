package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
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

// BytesMetadata is implemented by Metadata whose files can hold byte
// arrays (the unigram model's precompiled normalization rules).
type BytesMetadata interface {
	Bytes(key string) ([]byte, bool)
}

// GGUF metadata keys the tokenizer reads.
const (
	KeyModel          = "tokenizer.ggml.model"
	KeyPre            = "tokenizer.ggml.pre"
	KeyTokens         = "tokenizer.ggml.tokens"
	KeyScores         = "tokenizer.ggml.scores"
	KeyTokenType      = "tokenizer.ggml.token_type"
	KeyMerges         = "tokenizer.ggml.merges"
	KeyBOS            = "tokenizer.ggml.bos_token_id"
	KeyEOS            = "tokenizer.ggml.eos_token_id"
	KeyEOT            = "tokenizer.ggml.eot_token_id"
	KeyEOM            = "tokenizer.ggml.eom_token_id"
	KeyUNK            = "tokenizer.ggml.unknown_token_id"
	KeyPAD            = "tokenizer.ggml.padding_token_id"
	KeySEP            = "tokenizer.ggml.seperator_token_id" // sic, as llama.cpp writes it
	KeyCLS            = "tokenizer.ggml.cls_token_id"
	KeyAddBOS         = "tokenizer.ggml.add_bos_token"
	KeyAddEOS         = "tokenizer.ggml.add_eos_token"
	KeyAddSpacePrefix = "tokenizer.ggml.add_space_prefix"
	KeyRemoveExtraWS  = "tokenizer.ggml.remove_extra_whitespaces"
	KeyCharsmap       = "tokenizer.ggml.precompiled_charsmap"
	KeyChatTemplate   = "tokenizer.chat_template"
)

// modelDefaults are llama.cpp's defaults for each tokenizer.ggml.model,
// used where the file does not say.
var modelDefaults = map[string]spec{
	"llama": {bos: 1, eos: 2, unk: 0, pad: -1, eot: -1, eom: -1, addBOS: true, addSpacePrefix: true},
	"gpt2":  {bos: 11, eos: 11, unk: -1, pad: -1, eot: -1, eom: -1},
	// BERT: BOS is [CLS] and EOS is [SEP]; Encode(addSpecial) adds both.
	"bert": {bos: 101, eos: 102, unk: 100, pad: 0, eot: -1, eom: -1, addBOS: true, addEOS: true, addSpacePrefix: true},
	"t5":   {bos: -1, eos: 1, unk: 2, pad: 0, eot: -1, eom: -1, addEOS: true},
}

// FromMetadata builds the tokenizer a model file describes under the
// tokenizer.ggml.* keys. Supported models: "llama" (SentencePiece BPE),
// "gpt2" (byte-level BPE with the pre-tokenizer tokenizer.ggml.pre names),
// "bert" (WordPiece) and "t5" (SentencePiece unigram). The chat template
// under tokenizer.chat_template comes along.
//
// A special-token id that is missing or out of range keeps the model's
// default (LLaMA: unk 0, bos 1, eos 2, no pad), as llama.cpp does.
func FromMetadata(md Metadata) (*Tokenizer, error) {
	name, ok := md.String(KeyModel)
	if !ok {
		return nil, fmt.Errorf("tokenizer: metadata key %s is missing: the file has no vocabulary (a vocabulary-less model needs a separate tokenizer)", KeyModel)
	}
	defaults, ok := modelDefaults[name]
	if !ok {
		return nil, fmt.Errorf("tokenizer: unsupported tokenizer model %q in %s (supported: bert, gpt2, llama, t5)", name, KeyModel)
	}
	pre, _ := md.String(KeyPre)
	pieces, ok := md.Strings(KeyTokens)
	if !ok || len(pieces) == 0 {
		return nil, fmt.Errorf("tokenizer: metadata key %s is missing or empty: the file has no vocabulary", KeyTokens)
	}
	n := len(pieces)
	s := defaults
	s.pieces = slices.Clone(pieces)
	if name == "gpt2" {
		// llama.cpp: LLaMA-3-style vocabularies add BOS unless told otherwise.
		switch pre {
		case "llama3", "llama-v3", "llama-bpe", "falcon3", "tekken", "chameleon":
			s.addBOS = true
		}
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
	bosKey := KeyBOS
	if _, ok := md.Uint(KeyBOS); !ok && name == "bert" {
		bosKey = KeyCLS
	}
	eosKey := KeyEOS
	if name == "bert" {
		eosKey = KeySEP
	}
	for _, k := range []struct {
		key string
		id  *int
	}{{bosKey, &s.bos}, {eosKey, &s.eos}, {KeyUNK, &s.unk}, {KeyPAD, &s.pad}, {KeyEOT, &s.eot}, {KeyEOM, &s.eom}} {
		if v, ok := md.Uint(k.key); ok && v < uint64(n) {
			*k.id = int(v)
		}
	}
	removeExtraSpaces := false
	for _, k := range []struct {
		key  string
		flag *bool
	}{{KeyAddBOS, &s.addBOS}, {KeyAddEOS, &s.addEOS}, {KeyAddSpacePrefix, &s.addSpacePrefix}, {KeyRemoveExtraWS, &removeExtraSpaces}} {
		if v, ok := md.Bool(k.key); ok {
			*k.flag = v
		}
	}
	s.chatTemplate, _ = md.String(KeyChatTemplate)

	var newModel func(t *Tokenizer) (model, error)
	switch name {
	case "llama":
		newModel = newSPM(s.addSpacePrefix)
	case "gpt2":
		s.addSpacePrefix = false
		m, err := bpeFromMetadata(md, pre)
		if err != nil {
			return nil, err
		}
		newModel = m
	case "bert":
		newModel = newWordPiece(wordPieceOptions{
			lowercase: !hasUppercasePiece(s), stripAccents: true, startPrefix: spaceMarker,
		})
	case "t5":
		opt := unigramOptions{addPrefix: s.addSpacePrefix, mergeSpaces: removeExtraSpaces}
		if bm, ok := md.(BytesMetadata); ok {
			if blob, ok := bm.Bytes(KeyCharsmap); ok && len(blob) > 0 {
				cm, err := parseCharsmap(blob)
				if err != nil {
					return nil, fmt.Errorf("tokenizer: %s: %w", KeyCharsmap, err)
				}
				opt.charsmap = cm
			}
		}
		newModel = newUnigram(opt)
	}
	return build(s, newModel)
}

// bpeFromMetadata reads the merges and pre-tokenizer of a byte-level vocabulary.
func bpeFromMetadata(md Metadata, pre string) (func(t *Tokenizer) (model, error), error) {
	lines, ok := md.Strings(KeyMerges)
	if !ok {
		return nil, fmt.Errorf("tokenizer: metadata key %s is missing: a gpt2 (BPE) vocabulary needs its merges", KeyMerges)
	}
	merges := make([][2]string, 0, len(lines))
	for i, line := range lines {
		// llama.cpp splits at the first space after the first byte.
		sp := strings.IndexByte(line[min(1, len(line)):], ' ')
		if sp < 0 {
			return nil, fmt.Errorf("tokenizer: %s entry %d %q is not two pieces separated by a space", KeyMerges, i, line)
		}
		sp += min(1, len(line))
		merges = append(merges, [2]string{line[:sp], line[sp+1:]})
	}
	if pre == "" || pre == "default" {
		pre = "gpt-2" // llama.cpp warns and uses a generic default; GPT-2's is the closest we have
	}
	p, err := lookupPreTokenizer(pre)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", KeyPre, err)
	}
	return newBPE(merges, bpeOptions{byteLevel: true, pre: p, ignoreMerges: p.name == "llama3"}), nil
}

// hasUppercasePiece reports whether a normal piece has an uppercase letter
// that has a lowercase form: a cased WordPiece vocabulary, which must not be
// lowercased.
func hasUppercasePiece(s spec) bool {
	for id, p := range s.pieces {
		if s.types != nil && s.types[id] != TypeNormal {
			continue
		}
		for _, r := range p {
			if unicode.IsUpper(r) && unicode.ToLower(r) != r {
				return true
			}
		}
	}
	return false
}
