// Package generate is the decoding loop: a prompt's token ids → sampled
// continuation tokens, streamed as text, with stop sequences, log
// probabilities and timings.
//
// Sampling follows llama.cpp's chain (repetition penalty → top-k → top-p →
// min-p → temperature) and draws with llama2.c's xorshift generator, so a
// seeded run is reproducible, and with temperature 1 and top-p alone it picks
// exactly the tokens llama2.c's run.c picks for the same seed.
//
// With Options.Schema the loop decodes under a JSON schema: before each
// draw it masks every token whose text cannot continue a document the
// schema accepts (a grammar over tokens: a byte trie of the vocabulary
// walked with the schema's matcher), allows end-of-generation only once
// the document is complete, and steers toward closing when the token
// budget runs low, so the text is valid JSON for the schema.
package generate
