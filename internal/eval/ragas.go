package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// The RAG metrics below follow the definitions of RAGAS (Es et al., 2023,
// "RAGAS: Automated Evaluation of Retrieval Augmented Generation", and the
// ragas library's metrics of the same names), with an LLM judge reached
// through Chat and, for answer relevancy, an embedding function.

// Embed turns texts into vectors, one per text (the command layer adapts
// embed.Embedder to it).
type Embed func(ctx context.Context, texts []string) ([][]float32, error)

// RAGInput is one answered question of a RAG system.
type RAGInput struct {
	Question  string
	Answer    string   // the system's answer
	Reference string   // the gold answer (context precision and recall)
	Contexts  []string // the retrieved passages, in rank order
}

// RAGItem is one thing a RAG score counts: a statement of the answer
// (faithfulness), a sentence of the reference (context recall), a
// retrieved context (context precision) or a generated question (answer
// relevancy, with its Similarity to the question).
type RAGItem struct {
	Text       string  `json:"text"`
	Verdict    bool    `json:"verdict"`
	Similarity float64 `json:"similarity,omitempty"`
}

// RAGScore is a score in [0, 1] with the items it was computed from.
type RAGScore struct {
	Score float64   `json:"score"`
	Items []RAGItem `json:"items"`
}

// ErrUndefined is returned (wrapped) when a RAG score has nothing to be
// computed from, where RAGAS returns NaN: an answer with no statements, a
// reference with no sentences, no retrieved contexts.
var ErrUndefined = errors.New("score undefined")

const statementsSystem = `You break an answer into short, self-contained factual statements.
Each statement must be understandable without the others: replace pronouns by the names they stand for.
Reply with one JSON object and nothing else: {"statements": ["...", "..."]}. An answer with no factual content has {"statements": []}.`

const supportSystem = `You check a statement against a context.
The verdict is 1 if the statement can be directly inferred from the context, 0 if it cannot.
Reply with one JSON object and nothing else: {"reason": "...", "verdict": 1} or {"reason": "...", "verdict": 0}.`

// Faithfulness is the share of the answer's claims that the retrieved
// context supports:
//
//	faithfulness = |statements supported by the context| / |statements|
//
// The judge first breaks the answer into statements (one call), then
// checks each statement against the contexts joined by newlines (one call
// per statement; ragas checks them all in one call, which scores the same
// verdicts). No statements or no contexts: ErrUndefined.
func Faithfulness(ctx context.Context, chat Chat, in RAGInput) (RAGScore, error) {
	if len(in.Contexts) == 0 {
		return RAGScore{}, fmt.Errorf("faithfulness: no retrieved contexts: %w", ErrUndefined)
	}
	statements, err := extractStatements(ctx, chat, in.Question, in.Answer)
	if err != nil {
		return RAGScore{}, err
	}
	if len(statements) == 0 {
		return RAGScore{}, fmt.Errorf("faithfulness: the answer has no statements: %w", ErrUndefined)
	}
	return verifyEach(ctx, chat, supportSystem, "Context", strings.Join(in.Contexts, "\n"), "Statement", statements)
}

// verifyEach asks for a verdict on each item against one context and
// scores the share of yes.
func verifyEach(ctx context.Context, chat Chat, system, contextLabel, passages, itemLabel string, items []string) (RAGScore, error) {
	var s RAGScore
	yes := 0
	for _, item := range items {
		reply, err := chat(ctx, system, sections(contextLabel, passages, itemLabel, item))
		if err != nil {
			return RAGScore{}, err
		}
		v, err := parseVerdict(reply)
		if err != nil {
			return RAGScore{}, err
		}
		if v {
			yes++
		}
		s.Items = append(s.Items, RAGItem{Text: item, Verdict: v})
	}
	s.Score = float64(yes) / float64(len(items))
	return s, nil
}

// listItem matches a bulleted or numbered line.
var listItem = regexp.MustCompile(`^\s*(?:[-*•]|\d+[.)])\s+(.+?)\s*$`)

// extractStatements asks for the answer's statements: a JSON object
// {"statements": [...]}, else the reply's bulleted or numbered lines.
func extractStatements(ctx context.Context, chat Chat, question, answer string) ([]string, error) {
	reply, err := chat(ctx, statementsSystem, sections("Question", question, "Answer", answer))
	if err != nil {
		return nil, err
	}
	var obj struct {
		Statements []string `json:"statements"`
	}
	if firstJSONObject(reply, &obj) && obj.Statements != nil {
		return nonEmpty(obj.Statements), nil
	}
	var out []string
	for _, line := range strings.Split(reply, "\n") {
		if m := listItem.FindStringSubmatch(line); m != nil {
			out = append(out, m[1])
		}
	}
	if out == nil {
		return nil, &ParseError{What: "list of statements", Reply: reply}
	}
	return out, nil
}

func nonEmpty(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

const questionsSystem = `You write the questions that an answer answers.
Write %d different questions, each one that the given answer answers directly.
Also say whether the answer is noncommittal: 1 if it is evasive, vague or says it does not know ("I don't know", "I'm not sure"), 0 if it commits to an answer.
Reply with one JSON object and nothing else: {"questions": ["...", "..."], "noncommittal": 0}.`

// AnswerRelevancy measures how directly the answer addresses the question:
// the judge writes n questions (default 3, ragas' "strictness") that the
// answer answers, and the score is the mean cosine similarity between the
// embedding of each and the embedding of the actual question,
//
//	answer relevancy = (1/n) Σᵢ cos(E(gᵢ), E(q))
//
// set to 0 when the judge calls the answer noncommittal. ragas asks for
// one question per call n times; this asks for n different questions in
// one call, so that a greedy (deterministic) judge still writes n. No
// question generated: 0, as in ragas.
func AnswerRelevancy(ctx context.Context, chat Chat, embed Embed, in RAGInput, n int) (RAGScore, error) {
	if n <= 0 {
		n = 3
	}
	reply, err := chat(ctx, fmt.Sprintf(questionsSystem, n), sections("Answer", in.Answer))
	if err != nil {
		return RAGScore{}, err
	}
	questions, noncommittal, err := parseQuestions(reply)
	if err != nil {
		return RAGScore{}, err
	}
	if len(questions) > n {
		questions = questions[:n]
	}
	if len(questions) == 0 {
		return RAGScore{}, nil
	}
	vecs, err := embed(ctx, append([]string{in.Question}, questions...))
	if err != nil {
		return RAGScore{}, fmt.Errorf("answer relevancy: embedding: %w", err)
	}
	if len(vecs) != len(questions)+1 {
		return RAGScore{}, fmt.Errorf("answer relevancy: embedding returned %d vectors for %d texts", len(vecs), len(questions)+1)
	}
	var s RAGScore
	for i, q := range questions {
		sim := cosine(vecs[0], vecs[i+1])
		s.Score += sim
		s.Items = append(s.Items, RAGItem{Text: q, Verdict: !noncommittal, Similarity: sim})
	}
	s.Score /= float64(len(questions))
	if noncommittal {
		s.Score = 0
	}
	return s, nil
}

// parseQuestions reads {"questions": [...], "noncommittal": 0|1} (a single
// "question" string is accepted too), else question lines ending in "?".
func parseQuestions(reply string) ([]string, bool, error) {
	var obj map[string]any
	if firstJSONObject(reply, &obj) {
		var qs []string
		if v, ok := lookupKey(obj, "questions"); ok {
			if list, ok := v.([]any); ok {
				for _, q := range list {
					if s, ok := q.(string); ok {
						qs = append(qs, s)
					}
				}
			}
		}
		if v, ok := lookupKey(obj, "question"); ok {
			if s, ok := v.(string); ok {
				qs = append(qs, s)
			}
		}
		noncommittal := false
		if v, ok := lookupKey(obj, "noncommittal"); ok {
			noncommittal, _ = verdictValue(v)
		}
		if qs != nil {
			return nonEmpty(qs), noncommittal, nil
		}
	}
	var qs []string
	for _, line := range strings.Split(reply, "\n") {
		line = strings.TrimSpace(line)
		if m := listItem.FindStringSubmatch(line); m != nil {
			line = m[1]
		}
		if strings.HasSuffix(line, "?") {
			qs = append(qs, line)
		}
	}
	if qs == nil {
		return nil, false, &ParseError{What: "list of questions", Reply: reply}
	}
	return qs, false, nil
}

// cosine is the cosine similarity of two vectors (0 if either is zero).
func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

const usefulSystem = `You judge whether a retrieved context was useful in arriving at the given answer to a question.
The verdict is 1 if the context contains information used in, or needed for, the answer, 0 if it does not.
Reply with one JSON object and nothing else: {"reason": "...", "verdict": 1} or {"reason": "...", "verdict": 0}.`

// contextPrecisionEpsilon is ragas' guard against dividing by zero; it
// makes a perfect score 0.9999999999 rather than 1, as ragas reports.
const contextPrecisionEpsilon = 1e-10

// ContextPrecision measures whether the useful contexts are ranked first.
// The judge gives each retrieved context a verdict vₖ ∈ {0, 1} — useful
// for arriving at the reference answer — and the score is ragas' average
// precision over the K retrieved contexts:
//
//	context precision = Σₖ (precision@k · vₖ) / (Σₖ vₖ + 1e-10),
//	precision@k = (Σ_{i≤k} vᵢ) / k
//
// No contexts: ErrUndefined.
func ContextPrecision(ctx context.Context, chat Chat, in RAGInput) (RAGScore, error) {
	if len(in.Contexts) == 0 {
		return RAGScore{}, fmt.Errorf("context precision: no retrieved contexts: %w", ErrUndefined)
	}
	var s RAGScore
	for _, c := range in.Contexts {
		reply, err := chat(ctx, usefulSystem, sections("Question", in.Question, "Context", c, "Answer", in.Reference))
		if err != nil {
			return RAGScore{}, err
		}
		v, err := parseVerdict(reply)
		if err != nil {
			return RAGScore{}, err
		}
		s.Items = append(s.Items, RAGItem{Text: c, Verdict: v})
	}
	s.Score = averagePrecision(s.Items)
	return s, nil
}

func averagePrecision(items []RAGItem) float64 {
	relevant, num := 0.0, 0.0
	for k, it := range items {
		if it.Verdict {
			relevant++
			num += relevant / float64(k+1)
		}
	}
	return num / (relevant + contextPrecisionEpsilon)
}

const attributedSystem = `You check whether a sentence of an answer can be attributed to a context.
The verdict is 1 if the information in the sentence is found in the context, 0 if it is not.
Reply with one JSON object and nothing else: {"reason": "...", "verdict": 1} or {"reason": "...", "verdict": 0}.`

// ContextRecall measures how much of the reference answer the retrieved
// context holds: the reference is split into sentences (SplitSentences),
// the judge attributes each to the contexts joined by newlines or not
// (one call per sentence; ragas asks in one call), and
//
//	context recall = |sentences attributed to the context| / |sentences|
//
// No reference sentence or no contexts: ErrUndefined.
func ContextRecall(ctx context.Context, chat Chat, in RAGInput) (RAGScore, error) {
	if len(in.Contexts) == 0 {
		return RAGScore{}, fmt.Errorf("context recall: no retrieved contexts: %w", ErrUndefined)
	}
	sentences := SplitSentences(in.Reference)
	if len(sentences) == 0 {
		return RAGScore{}, fmt.Errorf("context recall: the reference answer is empty: %w", ErrUndefined)
	}
	return verifyEach(ctx, chat, attributedSystem, "Context", strings.Join(in.Contexts, "\n"), "Sentence", sentences)
}
