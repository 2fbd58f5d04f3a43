// Package longdoc turns long text into summaries, plan-and-execute answers
// and meeting minutes with a chat model whose context is shorter than the
// text.
//
// Summarize cuts the text into chunks that fit the model's context (by a
// token counter and budget), then either summarises every chunk in
// parallel and combines the partial summaries, in rounds, until they fit
// one call (MapReduce), or carries one summary through the chunks in turn
// (Refine).
//
// Plan and Execute follow PEARL (Sun et al., 2023): the model writes a plan
// of actions over the document as JSON constrained by PlanSchema — find
// passages, summarize, compare, answer — with named results that later
// steps refer to ("$name"); the executor runs the actions (find by a BM25
// lexical search over the document's chunks, or a caller's search
// function) and the last step composes the answer. The numbered lines of
// the prompt package's plan template are translated into the same steps.
// An invalid plan gets one repair turn. Ask does both.
//
// Minutes extracts a meeting's summary, decisions, action items (owner,
// task, due date when stated) and open questions as JSON valid against
// MinutesSchema: per chunk (map), then merged without duplicates with one
// combined summary (reduce). The model is asked for JSON with the schema
// attached (constrained decoding in the local engine, validate-and-repair
// for remote models), and every answer is validated here again.
//
// ParseTranscripts reads transcripts as "Speaker: utterance" lines, QMSum
// JSON files or JSON Lines records with a text field.
//
// Every task takes ctx first, reports progress through Options.Progress,
// and returns the calls' usage, cost and a trace.
package longdoc
