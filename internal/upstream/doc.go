// Package upstream reads what OpenAI-compatible endpoints answer when a
// request fails: response headers → how long to wait before trying again
// (Retry-After in seconds or as an HTTP date, retry-after-ms), and error
// bodies → the message they carry. The chat client (llm) and the
// embeddings client (embed) both read failures through it.
package upstream
