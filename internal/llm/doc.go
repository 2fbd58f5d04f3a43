// Package llm holds the chat-model contract: messages → text, tokens,
// log-probabilities, usage and a finish reason, streamed or whole. It
// implements the contract with the local engine (a llama model with LoRA
// adapters chosen per request) and with any OpenAI-compatible endpoint, and
// composes implementations: a router with rules, fallback and a
// confidence-driven cascade from an edge model to a cloud model, cost
// accounting from a pricing table, a response cache, and confidence scores.
package llm
