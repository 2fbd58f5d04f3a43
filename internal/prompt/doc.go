// Package prompt turns a task and its material into chat messages:
// versioned templates with typed variables (defaults embedded, overrides
// from the data directory), few-shot example selection, chain-of-thought
// variants, and retrieved passages packed under a token budget, numbered
// for citation and quoted as data. Training formats examples with the same
// code, so a fine-tuned model sees the prompts it will serve.
package prompt
