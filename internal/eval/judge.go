package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Chat asks a chat model one question: a system prompt and a user message
// in, the reply's text out. The command layer adapts the chat-model
// contract (llm.Model) to it, so eval depends on no model package.
//
// The judge prompts live in this package, next to the parsers of their
// replies: the wording asks for the exact reply format the parser reads,
// so the two are one definition and change together.
type Chat func(ctx context.Context, system, user string) (string, error)

// ParseError is a judge reply that says nothing the parser can read. It
// keeps the reply so that a report can show what the judge said.
type ParseError struct {
	What  string // what was looked for
	Reply string
}

func (e *ParseError) Error() string {
	reply := e.Reply
	if len(reply) > 200 {
		reply = reply[:200] + "…"
	}
	return fmt.Sprintf("judge reply has no %s: %q", e.What, reply)
}

// sections formats labelled blocks of a prompt: "Label:\ntext\n\n…".
func sections(labelText ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(labelText); i += 2 {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(labelText[i])
		b.WriteString(":\n")
		b.WriteString(strings.TrimSpace(labelText[i+1]))
	}
	return b.String()
}

// firstJSONObject decodes the first JSON object in a reply into v: the
// whole reply, or one inside a code fence or after some prose. It reports
// whether one decoded.
func firstJSONObject(reply string, v any) bool {
	for i := 0; i < len(reply); i++ {
		j := strings.IndexByte(reply[i:], '{')
		if j < 0 {
			return false
		}
		i += j
		dec := json.NewDecoder(strings.NewReader(reply[i:]))
		dec.UseNumber()
		if err := dec.Decode(v); err == nil {
			return true
		}
	}
	return false
}

// lookupKey finds key in a JSON object case-insensitively.
func lookupKey(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(strings.TrimSpace(k), key) {
			return v, true
		}
	}
	return nil, false
}

// jsonNumber reads a number given as a JSON number or a numeric string.
func jsonNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	case float64:
		return v, true
	}
	return 0, false
}

// verdictKeys are the keys a binary judgment may come under.
var verdictKeys = []string{"verdict", "supported", "attributed", "useful", "relevant", "faithful"}

// verdictWord matches a yes/no verdict at the start of a reply or after a
// "verdict:" label.
var verdictWord = regexp.MustCompile(`(?i)(?:^|verdict\W{0,3}\s*)\W*\b(yes|no|true|false|1|0|supported|unsupported|not supported)\b`)

// parseVerdict reads a binary judgment: a JSON object {"verdict": 1}
// (1/0, true/false or "yes"/"no", under any of verdictKeys), else a bare
// yes/no/1/0 at the start of the reply or after "verdict:".
func parseVerdict(reply string) (bool, error) {
	var obj map[string]any
	if firstJSONObject(reply, &obj) {
		for _, k := range verdictKeys {
			if v, ok := lookupKey(obj, k); ok {
				if b, ok := verdictValue(v); ok {
					return b, nil
				}
			}
		}
	}
	if m := verdictWord.FindStringSubmatch(strings.TrimSpace(reply)); m != nil {
		b, _ := verdictValue(m[1])
		return b, nil
	}
	return false, &ParseError{What: "yes/no verdict", Reply: reply}
}

func verdictValue(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case json.Number:
		switch v.String() {
		case "1", "1.0":
			return true, true
		case "0", "0.0":
			return false, true
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "1", "yes", "true", "supported":
			return true, true
		case "0", "no", "false", "unsupported", "not supported":
			return false, true
		}
	}
	return false, false
}

// Pairwise winners. A pairwise judgment names the better of two answers,
// A and B, or calls it a tie.
const (
	WinnerA   = "a"
	WinnerB   = "b"
	WinnerTie = "tie"
)

// PairwiseInput is one question and the two answers to compare.
type PairwiseInput struct {
	Question  string
	Reference string // a reference answer shown to the judge; "" for none
	A, B      string
}

// PairwiseVerdict is the judgment of one pair, asked twice: with A shown
// first (Forward) and with B shown first (Swapped, mapped back to A/B).
// Winner is A or B only when both orders agree; any disagreement is a tie,
// so a judge's preference for a position cannot decide.
type PairwiseVerdict struct {
	Winner     string `json:"winner"`
	Forward    string `json:"forward"`
	Swapped    string `json:"swapped"`
	Consistent bool   `json:"consistent"`
}

const pairwiseSystem = `You are an impartial judge comparing two answers to the same question.
Judge which answer is more correct, relevant and helpful. A reference answer, when given, is correct.
Do not let the order of the answers, their length or their style influence you.
Reply with one JSON object and nothing else: {"winner": "A"} or {"winner": "B"} or {"winner": "tie"}.`

// JudgePairwise asks chat which of in.A and in.B answers better, once in
// each order, and combines the two verdicts.
func JudgePairwise(ctx context.Context, chat Chat, in PairwiseInput) (PairwiseVerdict, error) {
	fwd, err := askPairwise(ctx, chat, in.Question, in.Reference, in.A, in.B)
	if err != nil {
		return PairwiseVerdict{}, err
	}
	swp, err := askPairwise(ctx, chat, in.Question, in.Reference, in.B, in.A)
	if err != nil {
		return PairwiseVerdict{}, err
	}
	swp = map[string]string{WinnerA: WinnerB, WinnerB: WinnerA, WinnerTie: WinnerTie}[swp]
	v := PairwiseVerdict{Winner: WinnerTie, Forward: fwd, Swapped: swp, Consistent: fwd == swp}
	if v.Consistent {
		v.Winner = fwd
	}
	return v, nil
}

func askPairwise(ctx context.Context, chat Chat, question, reference, first, second string) (string, error) {
	parts := []string{"Question", question}
	if reference != "" {
		parts = append(parts, "Reference answer", reference)
	}
	parts = append(parts, "Answer A", first, "Answer B", second)
	reply, err := chat(ctx, pairwiseSystem, sections(parts...))
	if err != nil {
		return "", err
	}
	return parseWinner(reply)
}

// winnerPattern finds a verdict in prose: "[[A]]" (as MT-Bench asks) or
// "winner: B".
var winnerPattern = regexp.MustCompile(`(?i)\[\[\s*(a|b|c|tie)\s*\]\]|winner\W{0,3}\s*(?:is\s+)?(?:answer\s+)?\W*\b(a|b|tie)\b`)

// parseWinner reads {"winner": "A"|"B"|"tie"}, else [[A]] / "winner: A".
func parseWinner(reply string) (string, error) {
	var obj map[string]any
	if firstJSONObject(reply, &obj) {
		if v, ok := lookupKey(obj, "winner"); ok {
			if s, ok := v.(string); ok {
				if w, ok := winnerName(s); ok {
					return w, nil
				}
			}
		}
	}
	if m := winnerPattern.FindStringSubmatch(reply); m != nil {
		if w, ok := winnerName(m[1] + m[2]); ok {
			return w, nil
		}
	}
	return "", &ParseError{What: `winner ("A", "B" or "tie")`, Reply: reply}
}

func winnerName(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "a", "answer a":
		return WinnerA, true
	case "b", "answer b":
		return WinnerB, true
	case "tie", "c", "draw", "equal":
		return WinnerTie, true
	}
	return "", false
}

// Rate is a proportion with its 95% Wilson score interval.
type Rate struct {
	Rate float64 `json:"rate"`
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// z95 is the standard normal quantile at 0.975.
var z95 = normalQuantile(0.975)

// WilsonRate is k/n with its 95% Wilson score interval (zero for n = 0):
// (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n).
func WilsonRate(k, n int) Rate {
	if n == 0 {
		return Rate{}
	}
	p, nf, z2 := float64(k)/float64(n), float64(n), z95*z95
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	return Rate{Rate: p, Low: max(0, center-half), High: min(1, center+half)}
}

// PairwiseSummary counts the verdicts of a system (A) against a baseline
// (B) over a test set. Rates are over the N judged pairs; Errors are pairs
// the judge could not decide (no reply or an unreadable one), left out of N.
type PairwiseSummary struct {
	N            int  `json:"n"`
	Wins         int  `json:"wins"`
	Ties         int  `json:"ties"`
	Losses       int  `json:"losses"`
	Inconsistent int  `json:"inconsistent"` // ties that came from the two orders disagreeing
	Errors       int  `json:"errors"`
	WinRate      Rate `json:"win_rate"`
	TieRate      Rate `json:"tie_rate"`
	LossRate     Rate `json:"loss_rate"`
}

// SummarizePairwise counts verdicts (A is the system) and errors.
func SummarizePairwise(verdicts []PairwiseVerdict, errors int) PairwiseSummary {
	s := PairwiseSummary{N: len(verdicts), Errors: errors}
	for _, v := range verdicts {
		switch v.Winner {
		case WinnerA:
			s.Wins++
		case WinnerB:
			s.Losses++
		default:
			s.Ties++
		}
		if !v.Consistent {
			s.Inconsistent++
		}
	}
	s.WinRate, s.TieRate, s.LossRate = WilsonRate(s.Wins, s.N), WilsonRate(s.Ties, s.N), WilsonRate(s.Losses, s.N)
	return s
}

// Criterion is one aspect a rubric judge scores from 1 to 5.
type Criterion struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
}

// DefaultCriteria are the rubric's criteria when a configuration names none.
var DefaultCriteria = []Criterion{
	{"correctness", "Is the answer factually correct and consistent with the reference answer?"},
	{"relevance", "Does the answer address the question asked, without digressions?"},
	{"completeness", "Does the answer cover everything the question asks for?"},
	{"clarity", "Is the answer clear, well organised and easy to read?"},
}

// RubricInput is what the rubric judge sees.
type RubricInput struct {
	Question  string
	Reference string // "" for none
	Answer    string
}

// CriterionScore is a criterion's score from 1 to 5.
type CriterionScore struct {
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

// RubricScore is the score of every criterion and their mean.
type RubricScore struct {
	Scores []CriterionScore `json:"scores"`
	Mean   float64          `json:"mean"`
}

const rubricSystem = `You are an impartial judge grading an answer to a question.
Score the answer on each criterion below with an integer from 1 (very poor) to 5 (excellent).
A reference answer, when given, is correct.
Reply with one JSON object and nothing else, mapping each criterion's name to its score, for example {%s}.`

// JudgeRubric asks chat to score in.Answer from 1 to 5 on each criterion.
// A reply that misses a criterion or scores outside 1–5 is a *ParseError.
func JudgeRubric(ctx context.Context, chat Chat, criteria []Criterion, in RubricInput) (RubricScore, error) {
	if len(criteria) == 0 {
		criteria = DefaultCriteria
	}
	example := make([]string, len(criteria))
	list := make([]string, len(criteria))
	for i, c := range criteria {
		example[i] = fmt.Sprintf("%q: %d", c.Name, 3+i%3)
		list[i] = fmt.Sprintf("- %s: %s", c.Name, c.Description)
	}
	parts := []string{"Criteria", strings.Join(list, "\n"), "Question", in.Question}
	if in.Reference != "" {
		parts = append(parts, "Reference answer", in.Reference)
	}
	parts = append(parts, "Answer", in.Answer)
	reply, err := chat(ctx, fmt.Sprintf(rubricSystem, strings.Join(example, ", ")), sections(parts...))
	if err != nil {
		return RubricScore{}, err
	}
	return parseRubric(reply, criteria)
}

// parseRubric reads each criterion's score: from the first JSON object
// (the criteria at its top level or under "scores"), else from a line
// "name: 4" or "**Name** - 4/5" for each criterion.
func parseRubric(reply string, criteria []Criterion) (RubricScore, error) {
	var obj map[string]any
	hasJSON := firstJSONObject(reply, &obj)
	if hasJSON {
		if inner, ok := lookupKey(obj, "scores"); ok {
			if m, ok := inner.(map[string]any); ok {
				obj = m
			}
		}
	}
	var rs RubricScore
	for _, c := range criteria {
		score, found := 0.0, false
		if hasJSON {
			if v, ok := lookupKey(obj, c.Name); ok {
				score, found = jsonNumber(v)
			}
		}
		if !found {
			score, found = scoreInProse(reply, c.Name)
		}
		if !found {
			return RubricScore{}, &ParseError{What: fmt.Sprintf("score for %q", c.Name), Reply: reply}
		}
		if score < 1 || score > 5 {
			return RubricScore{}, &ParseError{What: fmt.Sprintf("score from 1 to 5 for %q (got %g)", c.Name, score), Reply: reply}
		}
		rs.Scores = append(rs.Scores, CriterionScore{Name: c.Name, Score: score})
		rs.Mean += score
	}
	rs.Mean /= float64(len(rs.Scores))
	return rs, nil
}

// outOfFive removes the scale from "4/5", "4 out of 5" and "(1-5)".
var outOfFive = regexp.MustCompile(`(?i)\(\s*1\s*[-–to]+\s*5\s*\)|\s*(/|out of)\s*5\b`)

var firstNumber = regexp.MustCompile(`\d+(?:\.\d+)?`)

// scoreInProse finds the first number on the line after the criterion's
// name (scale markers such as "/5" removed).
func scoreInProse(reply, name string) (float64, bool) {
	nameRe := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(name) + `\b`)
	for _, line := range strings.Split(reply, "\n") {
		loc := nameRe.FindStringIndex(line)
		if loc == nil {
			continue
		}
		rest := outOfFive.ReplaceAllString(line[loc[1]:], "")
		if m := firstNumber.FindString(rest); m != "" {
			f, err := strconv.ParseFloat(m, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// isParseError reports whether err is a judge reply that could not be read.
func isParseError(err error) bool {
	var pe *ParseError
	return errors.As(err, &pe)
}
