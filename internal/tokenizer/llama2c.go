package tokenizer

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
)

// maxLlama2CTokenLength bounds the max_token_length header of a llama2.c
// tokenizer: real ones are a few dozen bytes; anything past this is not a
// tokenizer file.
const maxLlama2CTokenLength = 1 << 16

// LoadLlama2C reads a llama2.c tokenizer.bin (the file `run -z` takes):
//
//	int32 max_token_length
//	vocabSize × { float32 score; int32 len; len bytes of piece }
//
// all little-endian. vocabSize is the model's vocab_size; the file must hold
// exactly that many tokens (vocabSize ≤ 0 accepts whatever count it holds).
//
// llama2.c writes pieces with ' ' where SentencePiece writes '▁' and BOS/EOS
// as "\n<s>\n" and "\n</s>\n"; they are normalised to the GGUF form (id 0
// "<unk>" unknown, 1 "<s>" and 2 "</s>" control, "<0xNN>" byte tokens, '▁'
// for spaces), so the result tokenizes exactly like the GGUF conversion of
// the same vocabulary. BOS 1 is added by Encode(addSpecial=true), EOS 2 is
// not, and a space prefix is used, as llama2.c's encode does.
func LoadLlama2C(path string, vocabSize int) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: reading llama2.c tokenizer: %w", err)
	}
	return parseLlama2C(path, data, vocabSize)
}

// parseLlama2C parses the bytes of a llama2.c tokenizer; name is used in errors.
func parseLlama2C(name string, data []byte, vocabSize int) (*Tokenizer, error) {
	fail := func(off int, format string, args ...any) error {
		return fmt.Errorf("tokenizer: %s: byte offset %d: %s", name, off, fmt.Sprintf(format, args...))
	}
	if len(data) < 4 {
		return nil, fail(0, "file has %d bytes, too short for the int32 max_token_length header (is this a llama2.c tokenizer.bin?)", len(data))
	}
	maxLen := int32(binary.LittleEndian.Uint32(data))
	if maxLen <= 0 || maxLen > maxLlama2CTokenLength {
		return nil, fail(0, "max_token_length %d is not in 1..%d (is this a llama2.c tokenizer.bin?)", maxLen, maxLlama2CTokenLength)
	}

	var pieces []string
	var scores []float32
	off := 4
	for off < len(data) {
		id := len(pieces)
		if vocabSize > 0 && id == vocabSize {
			return nil, fail(off, "%d bytes follow the %d tokens the model's vocab_size asks for (does the tokenizer belong to this model?)", len(data)-off, vocabSize)
		}
		if len(data)-off < 8 {
			return nil, fail(off, "file is truncated in the header of token %d (%d of 8 bytes)", id, len(data)-off)
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		n := int32(binary.LittleEndian.Uint32(data[off+4:]))
		if n < 0 || n > maxLen {
			return nil, fail(off+4, "token %d has length %d, not in 0..max_token_length %d", id, n, maxLen)
		}
		off += 8
		if len(data)-off < int(n) {
			return nil, fail(off, "file is truncated in token %d: %d bytes of text declared, %d left", id, n, len(data)-off)
		}
		pieces = append(pieces, string(data[off:off+int(n)]))
		scores = append(scores, score)
		off += int(n)
	}
	if len(pieces) == 0 {
		return nil, fail(off, "file holds no tokens")
	}
	if vocabSize > 0 && len(pieces) != vocabSize {
		return nil, fail(off, "file ends after %d tokens but the model's vocab_size is %d (does the tokenizer belong to this model?)", len(pieces), vocabSize)
	}

	n := len(pieces)
	types := make([]TokenType, n)
	for i, p := range pieces {
		switch {
		case i == 0:
			pieces[i], types[i] = "<unk>", TypeUnknown
		case i == 1:
			pieces[i], types[i] = "<s>", TypeControl
		case i == 2:
			pieces[i], types[i] = "</s>", TypeControl
		default:
			if _, ok := parseByteToken(p); ok {
				types[i] = TypeByte
			} else {
				pieces[i], types[i] = strings.ReplaceAll(p, " ", spaceMarker), TypeNormal
			}
		}
	}
	s := spec{
		pieces: pieces, scores: scores, types: types,
		bos: 1, eos: 2, unk: 0, pad: -1, eot: -1, eom: -1,
		addBOS: true, addEOS: false, addSpacePrefix: true,
	}
	t, err := build(s, newSPM(true))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	return t, nil
}
