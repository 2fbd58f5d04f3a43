// Package generate is the decoding loop: a prompt's token ids → sampled
// continuation tokens, streamed as text, with stop sequences, log
// probabilities and timings.
//
// Sampling follows llama.cpp's chain (repetition penalty → top-k → top-p →
// min-p → temperature) and draws with llama2.c's xorshift generator, so a
// seeded run is reproducible, and with temperature 1 and top-p alone it picks
// exactly the tokens llama2.c's run.c picks for the same seed.
package generate
