package eval

import (
	"math"
	"slices"
)

// MeteorConfig holds METEOR's parameters; a zero field takes NLTK's
// default (Alpha 0.9, Beta 3, Gamma 0.5).
type MeteorConfig struct {
	Alpha float64 // weight of precision against recall in the F-mean
	Beta  float64 // exponent of the fragmentation penalty
	Gamma float64 // weight of the fragmentation penalty
}

func (c MeteorConfig) withDefaults() MeteorConfig {
	if c.Alpha == 0 {
		c.Alpha = 0.9
	}
	if c.Beta == 0 {
		c.Beta = 3
	}
	if c.Gamma == 0 {
		c.Gamma = 0.5
	}
	return c
}

// Meteor is the METEOR score of hyp against each reference, the best one
// kept, computed as NLTK's meteor_score (called by Hugging Face evaluate's
// "meteor" on word_tokenize'd text) with two of its three matching stages:
//
//  1. exact: lowercased words equal;
//  2. stem: the remaining words equal after NLTK's Porter stemmer.
//
// NLTK's third stage matches remaining words that are WordNet synonyms;
// WordNet is not shipped, so a pair that only WordNet would match is not
// matched here and the score can be lower than NLTK's. Without such pairs
// the two agree exactly. Tokens come from an approximation of NLTK's
// word_tokenize (the one CMRC 2018 scoring uses).
//
// With m matched words, a hypothesis of length h and a reference of length
// r: P = m/h, R = m/r, Fmean = P·R/(α·P + (1−α)·R), and with c chunks
// (runs of matches adjacent in both), penalty = γ·(c/m)^β and
// METEOR = (1 − penalty)·Fmean; 0 when nothing matches.
func Meteor(hyp string, refs []string, cfg MeteorConfig) float64 {
	cfg = cfg.withDefaults()
	h := meteorTokens(hyp)
	best := 0.0
	for _, ref := range refs {
		best = max(best, meteorSingle(h, meteorTokens(ref), cfg))
	}
	return best
}

func meteorTokens(s string) []string {
	toks := wordTokenize(s)
	for i, t := range toks {
		toks[i] = pyLower(t)
	}
	return toks
}

// enumWord is a word with its position in the sentence.
type enumWord struct {
	pos  int
	word string
}

func enumerate(words []string) []enumWord {
	out := make([]enumWord, len(words))
	for i, w := range words {
		out[i] = enumWord{i, w}
	}
	return out
}

// wordMatch pairs a hypothesis position with a reference position.
type wordMatch struct{ hyp, ref int }

func meteorSingle(hyp, ref []string, cfg MeteorConfig) float64 {
	if len(hyp) == 0 || len(ref) == 0 {
		return 0
	}
	h, r := enumerate(hyp), enumerate(ref)
	exact, h, r := matchWords(h, r)
	stemmer := NewPorterStemmer(PorterNLTK)
	for i := range h {
		h[i].word = stemmer.Stem(h[i].word)
	}
	for i := range r {
		r[i].word = stemmer.Stem(r[i].word)
	}
	stem, _, _ := matchWords(h, r)
	matches := append(exact, stem...)
	if len(matches) == 0 {
		return 0
	}
	// NLTK sorts by hypothesis position; positions are unique.
	slices.SortFunc(matches, func(a, b wordMatch) int { return a.hyp - b.hyp })
	m := float64(len(matches))
	p, rc := m/float64(len(hyp)), m/float64(len(ref))
	fmean := p * rc / (cfg.Alpha*p + (1-cfg.Alpha)*rc)
	frag := float64(countChunks(matches)) / m
	penalty := cfg.Gamma * math.Pow(frag, cfg.Beta)
	return (1 - penalty) * fmean
}

// matchWords is NLTK's _match_enums: for each hypothesis word from the
// last, the last equal unmatched reference word is its match; both leave
// the lists. It returns the matches and what is left.
func matchWords(hyp, ref []enumWord) ([]wordMatch, []enumWord, []enumWord) {
	hyp, ref = append([]enumWord(nil), hyp...), append([]enumWord(nil), ref...)
	var matches []wordMatch
	for i := len(hyp) - 1; i >= 0; i-- {
		for j := len(ref) - 1; j >= 0; j-- {
			if hyp[i].word == ref[j].word {
				matches = append(matches, wordMatch{hyp[i].pos, ref[j].pos})
				hyp = append(hyp[:i], hyp[i+1:]...)
				ref = append(ref[:j], ref[j+1:]...)
				break
			}
		}
	}
	return matches, hyp, ref
}

// countChunks counts runs of matches adjacent in both sentences.
func countChunks(ms []wordMatch) int {
	chunks := 1
	for i := 0; i+1 < len(ms); i++ {
		if ms[i+1].hyp != ms[i].hyp+1 || ms[i+1].ref != ms[i].ref+1 {
			chunks++
		}
	}
	return chunks
}
