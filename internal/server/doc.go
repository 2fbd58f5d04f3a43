// Package server turns HTTP requests into domain calls: the
// OpenAI-compatible gateway (/v1), the application API (/api: collections,
// documents, ask, feedback, jobs, promoted adapters, eval reports), API
// keys and rate limits, operations endpoints (/healthz, /readyz, /metrics),
// and the web UI embedded in the binary. Handlers are thin: decode → one
// domain call → encode.
package server
