// Package prompt turns a task and its material into chat messages:
// versioned templates with typed variables (defaults embedded, overrides
// from the data directory), few-shot example selection, chain-of-thought
// variants, and retrieved passages packed under a token budget, numbered
// for citation and quoted as data. Training formats examples with the same
// code, so a fine-tuned model sees the prompts it will serve.
//
// # Template files
//
// A template is a UTF-8 text file ending in .tmpl: a header, then message
// sections written in Go's text/template.
//
//	flywheel-prompt: 1
//	name: rag_answer
//	version: 2
//	description: Answer from numbered passages, citing them.
//	var question: string              # the user's question
//	var passages: passages            # the block made by Pack
//	var examples: examples?           # optional, empty when not given
//	var max_words: int = 150          # optional, with a default
//
//	--- system
//	Answer in at most {{.max_words}} words, citing passages as [1].
//
//	--- user
//	{{.passages}}
//
//	Question: {{.question}}
//
// The first line names the format and its version. The header holds
// name (lower-case letters, digits, _), version (a whole number ≥ 1), an
// optional description, and one "var" line per variable:
//
//	var NAME: TYPE            required
//	var NAME: TYPE?           optional; the zero value when not given
//	var NAME: TYPE = DEFAULT  optional with a default, a JSON literal
//
// optionally followed by "# a description". Types are string, int, float,
// bool, []string, examples ([]Example: range over it, use .Input and
// .Output) and passages (a Packed: {{.passages}} prints the block,
// .passages.Passages lists what was kept). Blank lines and lines starting
// with # are ignored in the header.
//
// Each line "--- system", "--- user" or "--- assistant" starts a message
// section, which runs to the next such line. Sections are rendered in
// order; each message is trimmed, and one that renders empty is left out
// (an assistant section that ends the template is a prefill). Besides the
// text/template built-ins, templates may call data (EscapeData: quote text
// as data), inc (i+1, to number from a range index) and join (join a
// []string with a separator). A template that uses a variable it does not
// declare fails to load; errors name the file and line.
//
// # Library
//
// Open loads the defaults embedded in the binary (templates/*.tmpl) and
// overlays the files of DIR/prompts/. A file with the name and version of
// a default replaces it; a higher version becomes the one Get returns;
// GetVersion pins an older one. The defaults are rag_answer and its
// chain-of-thought variant rag_answer_cot (FinalAnswer extracts the answer
// line), summarize_chunk and summarize_combine (map-reduce),
// summarize_refine, plan (actions read by ParsePlan), minutes (JSON),
// judge_pairwise, judge_rubric, repair_json and instruct. By convention a
// template's chain-of-thought variant is named NAME_cot.
//
// Render takes Vars, a map of typed Values (String, Int, Float, Bool,
// Strings, Examples, Passages) checked against the declarations: a missing
// required variable, a wrong type or an unknown name is an error naming the
// template, its version and the variable. RenderTraining appends the
// expected output as the assistant's turn, for training data.
//
// # Passages
//
// Pack numbers retrieved passages [1]..[n] and quotes them between
// <passages> and </passages> under a token budget, trimming at a sentence
// end the passage that does not fit; escaping keeps text inside a passage
// from closing the block or posing as a chat turn. Citations reads the
// numbers an answer cites.
//
// # Few-shot
//
// LoadExamples reads examples from JSONL; an ExampleSource supplies them
// from anywhere (a store). Selectors pick k examples for a query:
// Similarity (embedding cosine), MMR (relevant and diverse), LengthBased
// (in order, within a token budget) and NGramOverlap (shared word and
// character n-grams, for languages without spaces too).
package prompt
