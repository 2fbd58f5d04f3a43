// Package answer turns a question into an answer: question → retrieve →
// prompt → model → Answer{Text, Citations, Confidence, Usage, Cost}, or,
// with no model, an extractive answer made of the best supporting
// sentences. It says "I don't know" when retrieval support is below a
// threshold instead of guessing, and when a model's answer has low
// confidence it retries once with a chain-of-thought prompt and/or
// escalates to a second model, writing each step in the answer's trace.
//
// Citations point into the source: a model's [n] markers are mapped
// through the numbered passages it was shown to chunk IDs and byte
// offsets; an extractive answer cites each sentence by its own offsets, so
// that document.Text[Start:End] is the cited text.
package answer
