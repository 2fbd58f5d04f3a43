package dataset

import (
	"math"
	"slices"
	"sort"
)

// StatsOptions configures Stats. The zero value estimates tokens, draws 20
// histogram bins and counts duplicates with the default DedupOptions.
type StatsOptions struct {
	Tokens         TokenCounter // nil estimates (see EstimateTokens)
	Bins           int          // histogram bins; 0 means 20
	SkipDuplicates bool         // do not count duplicates (saves a Deduper's memory)
	Dedup          DedupOptions
}

// Stats accumulates what a data set holds, one example at a time. It keeps
// four integers a record (the token counts) for exact percentiles.
type Stats struct {
	opt       StatsOptions
	estimated bool
	r         StatsReport
	fields    [numStatFields][]int32
	turns     map[int]int
	langs     map[string]int
	dedup     *Deduper
}

// The fields whose token lengths Stats measures.
const (
	statPrompt   = iota // system prompt, tools and the messages before the answer
	statAnswer          // the answer of SFT and KTO examples
	statChosen          // the preferred answer of a pair
	statRejected        // the other answer of a pair
	statTotal           // SequenceTokens
	numStatFields
)

var statFieldNames = [numStatFields]string{"prompt", "answer", "chosen", "rejected", "total"}

// StatsReport is what Stats found.
type StatsReport struct {
	Records           int             `json:"records"`
	Kinds             KindCounts      `json:"kinds"`
	KTOLabels         LabelCounts     `json:"kto_labels"`
	WithSystem        int             `json:"with_system"`
	WithTools         int             `json:"with_tools"`
	WithFunctionCalls int             `json:"with_function_calls"`
	TokensEstimated   bool            `json:"tokens_estimated"` // no tokenizer: see EstimateTokens
	Fields            []FieldStats    `json:"fields"`
	Turns             TurnStats       `json:"turns"`
	Languages         []LanguageShare `json:"languages"`
	Duplicates        *DuplicateStats `json:"duplicates,omitempty"`
}

// KindCounts counts examples by Kind.
type KindCounts struct {
	SFT        int `json:"sft"`
	Preference int `json:"preference"`
	KTO        int `json:"kto"`
}

// LabelCounts counts KTO labels.
type LabelCounts struct {
	Desirable   int `json:"desirable"`
	Undesirable int `json:"undesirable"`
}

// FieldStats describes the token lengths of one field.
type FieldStats struct {
	Field     string    `json:"field"`
	Count     int       `json:"count"`
	Min       int       `json:"min"`
	Mean      float64   `json:"mean"`
	P50       int       `json:"p50"`
	P90       int       `json:"p90"`
	P95       int       `json:"p95"`
	P99       int       `json:"p99"`
	Max       int       `json:"max"`
	Histogram Histogram `json:"histogram"`
}

// Histogram counts values in bins of equal width: bin i holds values in
// [i·Width, (i+1)·Width), and the last bin everything above as well.
type Histogram struct {
	Width  int   `json:"width"`
	Counts []int `json:"counts"`
}

// TurnStats describes the number of user turns per example.
type TurnStats struct {
	Mean   float64     `json:"mean"`
	Max    int         `json:"max"`
	Counts []TurnCount `json:"counts"`
}

// TurnCount is how many examples have a number of turns.
type TurnCount struct {
	Turns int `json:"turns"`
	Count int `json:"count"`
}

// LanguageShare is how many examples are in a language.
type LanguageShare struct {
	Language string  `json:"language"`
	Count    int     `json:"count"`
	Share    float64 `json:"share"`
}

// DuplicateStats counts exact and near duplicates.
type DuplicateStats struct {
	Exact     int     `json:"exact"`
	Near      int     `json:"near"`
	Rate      float64 `json:"rate"` // (exact+near)/records
	Threshold float64 `json:"threshold"`
}

// NewStats returns an empty Stats.
func NewStats(opt StatsOptions) *Stats {
	s := &Stats{opt: opt, turns: map[int]int{}, langs: map[string]int{}}
	if s.opt.Bins <= 0 {
		s.opt.Bins = 20
	}
	if s.opt.Tokens == nil {
		s.opt.Tokens, s.estimated = EstimateTokens, true
	}
	if !opt.SkipDuplicates {
		s.dedup = NewDeduper(opt.Dedup)
	}
	return s
}

// Add counts one example.
func (s *Stats) Add(ex *Example) {
	r := &s.r
	r.Records++
	switch ex.Kind() {
	case KindSFT:
		r.Kinds.SFT++
	case KindPreference:
		r.Kinds.Preference++
	case KindKTO:
		r.Kinds.KTO++
		if *ex.Label {
			r.KTOLabels.Desirable++
		} else {
			r.KTOLabels.Undesirable++
		}
	}
	if ex.System != "" {
		r.WithSystem++
	}
	if ex.Tools != "" {
		r.WithTools++
	}
	for _, m := range ex.Messages {
		if m.Role == RoleFunctionCall {
			r.WithFunctionCalls++
			break
		}
	}
	s.addTokens(ex)
	s.turns[ex.Turns()]++
	s.langs[DetectLanguage(ex.Text())]++
	if s.dedup != nil {
		s.dedup.Add(ex)
	}
}

func (s *Stats) addTokens(ex *Example) {
	count := s.opt.Tokens
	add := func(f int, n int) { s.fields[f] = append(s.fields[f], int32(n)) }
	prompt := 0
	if ex.System != "" {
		prompt += count(ex.System)
	}
	if ex.Tools != "" {
		prompt += count(ex.Tools)
	}
	for _, m := range ex.Prompt() {
		prompt += count(m.Content)
	}
	add(statPrompt, prompt)
	total := prompt
	if ex.Kind() == KindPreference {
		c, r := count(ex.Chosen.Content), count(ex.Rejected.Content)
		add(statChosen, c)
		add(statRejected, r)
		total += max(c, r)
	} else if len(ex.Prompt()) < len(ex.Messages) {
		a := count(ex.Response())
		add(statAnswer, a)
		total += a
	}
	add(statTotal, total)
}

// Report summarises what was added.
func (s *Stats) Report() StatsReport {
	r := s.r
	r.TokensEstimated = s.estimated
	r.Fields = nil
	for f, values := range s.fields {
		if len(values) > 0 {
			r.Fields = append(r.Fields, fieldStats(statFieldNames[f], values, s.opt.Bins))
		}
	}
	r.Turns = s.turnStats()
	r.Languages = s.languageShares()
	if s.dedup != nil {
		d := s.dedup.report
		r.Duplicates = &DuplicateStats{Exact: d.Exact, Near: d.Near, Threshold: d.Threshold}
		if d.Records > 0 {
			r.Duplicates.Rate = float64(d.Exact+d.Near) / float64(d.Records)
		}
	}
	return r
}

func fieldStats(name string, values []int32, bins int) FieldStats {
	v := slices.Clone(values)
	slices.Sort(v)
	sum := 0.0
	for _, x := range v {
		sum += float64(x)
	}
	fs := FieldStats{
		Field: name, Count: len(v), Min: int(v[0]), Max: int(v[len(v)-1]), Mean: sum / float64(len(v)),
		P50: percentile(v, 50), P90: percentile(v, 90), P95: percentile(v, 95), P99: percentile(v, 99),
	}
	fs.Histogram = histogram(v, fs.P99, bins)
	return fs
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []int32, p float64) int {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return int(sorted[max(0, min(rank, len(sorted))-1)])
}

// histogram spreads values over bins of a round width that covers the 99th
// percentile; the last bin takes the rest.
func histogram(sorted []int32, p99, bins int) Histogram {
	width := niceWidth(max(1, (p99+bins-1)/bins))
	h := Histogram{Width: width, Counts: make([]int, bins)}
	for _, x := range sorted {
		h.Counts[min(int(x)/width, bins-1)]++
	}
	return h
}

// niceWidth rounds up to 1, 2 or 5 times a power of ten.
func niceWidth(w int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= w {
				return m * p
			}
		}
	}
}

func (s *Stats) turnStats() TurnStats {
	var t TurnStats
	sum, n := 0, 0
	for turns, count := range s.turns {
		t.Counts = append(t.Counts, TurnCount{Turns: turns, Count: count})
		sum += turns * count
		n += count
		t.Max = max(t.Max, turns)
	}
	sort.Slice(t.Counts, func(i, j int) bool { return t.Counts[i].Turns < t.Counts[j].Turns })
	if n > 0 {
		t.Mean = float64(sum) / float64(n)
	}
	return t
}

func (s *Stats) languageShares() []LanguageShare {
	var out []LanguageShare
	for lang, n := range s.langs {
		out = append(out, LanguageShare{Language: lang, Count: n, Share: float64(n) / float64(s.r.Records)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Language < out[j].Language
	})
	return out
}
