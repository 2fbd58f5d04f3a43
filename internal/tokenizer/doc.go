// Package tokenizer turns text into token ids and back, and conversations
// into prompts: a vocabulary (from GGUF metadata, a Hugging Face
// tokenizer.json or a llama2.c tokenizer.bin) plus a string gives the ids a
// model consumes, ids give back the bytes of text they stand for, and a
// chat template gives the prompt text of a conversation.
//
// A [Tokenizer] holds the vocabulary (pieces, scores, token types), the
// special token ids and the flags that say how to add them, and one
// tokenization algorithm behind the unexported model interface. Each
// reproduces llama.cpp's tokenizer of the same kind id for id (llama.cpp's
// test-tokenizer-0 cases are the tests):
//
//   - SentencePiece BPE (GGUF tokenizer.ggml.model "llama"): spaces become
//     "▁" (U+2581), one "▁" goes in front of every text fragment when the
//     vocabulary asks (tokenizer.ggml.add_space_prefix, default true), the
//     adjacent pair whose concatenation is the best-scored piece merges
//     first (ties to the left; a priority queue keeps it O(n log n)), and a
//     piece left outside the vocabulary becomes "<0xNN>" byte tokens;
//   - byte-level BPE ("gpt2"): a pre-tokenizer named by tokenizer.ggml.pre
//     (gpt-2, llama3/llama-bpe, qwen2, deepseek-llm and their aliases) cuts
//     the text into words — the regexes use look-ahead, so each is a small
//     state machine over characters and Unicode classes — and within each
//     word the pair with the lowest merge rank merges first; the bytes of
//     the text are the units, written in the GPT-2 byte alphabet;
//   - WordPiece ("bert"): whitespace, punctuation and CJK ideographs cut
//     words (lowercased and accent-stripped for uncased vocabularies), then
//     the longest pieces match greedily from the left; a word with no match
//     is [UNK];
//   - SentencePiece unigram ("t5", tokenizer.json "Unigram"): the cut of
//     the normalized text with the best sum of piece scores, by Viterbi.
//
// Hugging Face tokenizer.json files give the same algorithms (BPE either
// byte-level or SentencePiece-style with byte fallback, WordPiece, Unigram);
// tokenizer_config.json adds the special tokens, add_bos_token/add_eos_token
// and the chat template.
//
// Control and unknown token text in the input (for example "<s>") is only
// turned into the token when Encode is asked to parse special tokens;
// user-defined tokens are always split out first, as llama.cpp does.
//
// Decoding renders each token as the bytes it stands for and control and
// unknown tokens as nothing; for SentencePiece-style vocabularies it drops
// the one leading space of the first piece (at the start, or right after
// BOS), so Decode(Encode(s, ...)) == s for valid UTF-8 s (byte-level BPE
// gives back any bytes). [StreamDecoder] does the same token by token
// without ever splitting a UTF-8 character.
//
// [Template] renders conversations with the model's own Jinja chat template
// (github.com/ardanlabs/jinja, with Hugging Face's trim_blocks and
// lstrip_blocks behaviour) or a built-in one for the llama2, llama3, chatml,
// mistral and deepseek families; [Template.Segments] cuts a rendered
// conversation into prompt and response so that fine-tuning masks the loss
// on exactly the text serving would have prompted with.
//
// Encoding keeps its scratch space in per-model pools; there, the
// encoders that cut text into words (byte-level BPE, SentencePiece BPE,
// WordPiece) remember the ids of the words they have tokenized, so a word
// that recurs costs one lookup. A Tokenizer is immutable once built and
// safe for concurrent use.
package tokenizer
