package feedback

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"flywheel/internal/answer"
)

// Thresholds say which mean ratings make an answer good or bad.
type Thresholds struct {
	// Good is the lowest mean rating of an answer worth learning (0: 4).
	Good float64
	// Bad is the highest mean rating of an answer to reject (0: 2).
	Bad float64
}

func (t Thresholds) good() float64 { return cmp.Or(t.Good, 4) }
func (t Thresholds) bad() float64  { return cmp.Or(t.Bad, 2) }

// Example is what rated answers teach: a question, the passages its
// answers cited, and the response to learn (Response); a preference pair
// also has the response to avoid (Rejected).
type Example struct {
	Collection string
	Question   string
	Passages   []answer.Citation
	Response   string
	Rejected   string
	// AnswerIDs are the answers the example comes from.
	AnswerIDs []string
}

// SFT returns the supervised examples of records: each rated answer's
// latest correction, or else the answer itself when its mean rating is
// Good or better (an "I don't know" teaches nothing). Repeated examples
// are kept once.
func SFT(records []Record, th Thresholds) []Example {
	var out []Example
	seen := map[[3]string]bool{}
	for _, a := range rate(records) {
		resp := a.correction
		if resp == "" && a.mean() >= th.good() && !a.abstained() {
			resp = a.text
		}
		key := [3]string{a.collection, normalize(a.question), resp}
		if resp == "" || seen[key] {
			continue
		}
		seen[key] = true
		passages := unionPassages(nil, a.citations)
		out = append(out, Example{Collection: a.collection, Question: a.question, Passages: passages,
			Response: renumber(resp, a.citations, passages), AnswerIDs: []string{a.id}})
	}
	return out
}

// Pairs returns the preference pairs of records. Answers to the same
// question in the same collection form a group; an answer of the group
// that was corrected, or whose mean rating is Bad or worse, is rejected in
// favour of its own correction, or else of the group's best: its latest
// correction, or its best answer rated Good or better.
func Pairs(records []Record, th Thresholds) []Example {
	var out []Example
	seen := map[[2]string]bool{}
	for _, group := range groups(rate(records)) {
		best := bestOf(group, th)
		for _, a := range group {
			if a.correction == "" && a.mean() > th.bad() {
				continue
			}
			chosen, from := a.correction, a
			if chosen == "" && best != nil {
				chosen, from = best.response(), best
			}
			key := [2]string{chosen, a.text}
			if chosen == "" || chosen == a.text || seen[key] {
				continue
			}
			seen[key] = true
			passages := unionPassages(unionPassages(nil, a.citations), from.citations)
			ex := Example{Collection: a.collection, Question: a.question, Passages: passages,
				Response: renumber(chosen, from.citations, passages), Rejected: renumber(a.text, a.citations, passages),
				AnswerIDs: []string{a.id}}
			if from != a {
				ex.AnswerIDs = append(ex.AnswerIDs, from.id)
			}
			out = append(out, ex)
		}
	}
	return out
}

// rated is an answer with its feedback summed up.
type rated struct {
	id, collection, question, text string
	citations                      []answer.Citation
	sum, n                         int
	correction                     string
	correctedAt, lastAt            time.Time
}

func (a *rated) mean() float64   { return float64(a.sum) / float64(a.n) }
func (a *rated) abstained() bool { return strings.TrimSpace(a.text) == answer.IDontKnow }

// response is what the answer teaches: its correction, or itself.
func (a *rated) response() string { return cmp.Or(a.correction, a.text) }

// rate sums up the feedback of each answer; the answers come sorted by
// collection, question and ID, so exports are reproducible.
func rate(records []Record) []*rated {
	byID := map[string]*rated{}
	var out []*rated
	for _, r := range records {
		a := byID[r.AnswerID]
		if a == nil {
			a = &rated{id: r.AnswerID, collection: r.Collection, question: r.Question, text: r.Answer, citations: r.Citations}
			byID[r.AnswerID] = a
			out = append(out, a)
		}
		a.sum += r.Rating
		a.n++
		if r.Correction != "" && !r.Created.Before(a.correctedAt) {
			a.correction, a.correctedAt = r.Correction, r.Created
		}
		if r.Created.After(a.lastAt) {
			a.lastAt = r.Created
		}
	}
	slices.SortFunc(out, func(x, y *rated) int {
		return cmp.Or(cmp.Compare(x.collection, y.collection), cmp.Compare(normalize(x.question), normalize(y.question)), cmp.Compare(x.id, y.id))
	})
	return out
}

// groups splits sorted answers into runs of the same collection and
// question.
func groups(answers []*rated) [][]*rated {
	var out [][]*rated
	for i := 0; i < len(answers); {
		j := i + 1
		for j < len(answers) && answers[j].collection == answers[i].collection && normalize(answers[j].question) == normalize(answers[i].question) {
			j++
		}
		out = append(out, answers[i:j])
		i = j
	}
	return out
}

// bestOf is the group's answer to prefer: the latest corrected one, or
// else the best rated one at or above Good (the latest of equals); nil
// when there is none.
func bestOf(group []*rated, th Thresholds) *rated {
	var best *rated
	for _, a := range group {
		if a.correction != "" && (best == nil || best.correction == "" || a.correctedAt.After(best.correctedAt)) {
			best = a
		}
	}
	if best != nil {
		return best
	}
	for _, a := range group {
		if a.mean() < th.good() || a.abstained() {
			continue
		}
		if best == nil || a.mean() > best.mean() || a.mean() == best.mean() && a.lastAt.After(best.lastAt) {
			best = a
		}
	}
	return best
}

// unionPassages is a's passages then b's that a lacks, b's in the order
// of their numbers; the result is numbered from 1.
func unionPassages(a, b []answer.Citation) []answer.Citation {
	out := slices.Clone(a)
	b = slices.Clone(b)
	slices.SortStableFunc(b, func(x, y answer.Citation) int { return cmp.Compare(x.Number, y.Number) })
	for _, c := range b {
		if !slices.ContainsFunc(out, func(d answer.Citation) bool { return samePassage(c, d) }) {
			out = append(out, c)
		}
	}
	for i := range out {
		out[i].Number = i + 1
	}
	return out
}

// marker is a citation marker [n] in an answer.
var marker = regexp.MustCompile(`\[(\d+)\]`)

// renumber rewrites the [n] markers of text, which name the Number of
// cites, to the numbers of the same passages in passages.
func renumber(text string, cites, passages []answer.Citation) string {
	to := map[string]string{}
	for _, c := range cites {
		if i := slices.IndexFunc(passages, func(p answer.Citation) bool { return samePassage(c, p) }); i >= 0 {
			to[strconv.Itoa(c.Number)] = strconv.Itoa(i + 1)
		}
	}
	return marker.ReplaceAllStringFunc(text, func(m string) string {
		if n, ok := to[m[1:len(m)-1]]; ok {
			return "[" + n + "]"
		}
		return m
	})
}

func samePassage(a, b answer.Citation) bool {
	return a.DocID == b.DocID && a.Start == b.Start && a.End == b.End
}

// normalize is a question as grouping compares it: case and spacing
// ignored.
func normalize(q string) string { return strings.Join(strings.Fields(strings.ToLower(q)), " ") }
