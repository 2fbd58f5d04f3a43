// Package tokenizer turns text into token ids and back: a vocabulary (from
// GGUF metadata or a llama2.c tokenizer.bin) plus a string gives the ids a
// model consumes, and ids give back the bytes of text they stand for.
//
// A [Tokenizer] holds the vocabulary (pieces, scores, token types), the
// special token ids and the flags that say how to add them, and one
// tokenization algorithm behind the unexported model interface. The first
// algorithm is the SentencePiece-style BPE of LLaMA/LLaMA-2 vocabularies
// (tokenizer.ggml.model = "llama"); it reproduces llama.cpp's
// llm_tokenizer_spm id for id:
//
//   - spaces become "▁" (U+2581) and, when the vocabulary asks for it
//     (tokenizer.ggml.add_space_prefix, default true), one "▁" is put in
//     front of the first piece of text and of any text that follows a
//     special token;
//   - the text is split into UTF-8 characters (the length taken from the
//     lead byte, as llama.cpp does, so invalid input never panics);
//   - the adjacent pair whose concatenation is in the vocabulary with the
//     highest score is merged, ties going to the leftmost pair, until no pair
//     is in the vocabulary. A priority queue of candidate pairs keeps this
//     O(n log n);
//   - any piece left that is not in the vocabulary becomes one byte token
//     "<0xNN>" per byte (the unknown token when a byte token is missing).
//
// Special-token text (for example "<s>") in the input is only turned into the
// special token when Encode is asked to parse special tokens; user-defined
// tokens are always split out first, as llama.cpp does.
//
// Decoding renders "▁" as a space, byte tokens as their byte, and control
// and unknown tokens as nothing; it drops the one leading space SentencePiece
// put in front of the first piece (at the start, or right after BOS), so
// Decode(Encode(s, ...)) == s for valid UTF-8 s. [StreamDecoder] does the same
// token by token without ever splitting a UTF-8 character.
//
// A Tokenizer is immutable once built and safe for concurrent use.
package tokenizer
