package eval

import "strings"

// PorterMode selects the variant of the Porter stemmer, as the mode of
// NLTK's PorterStemmer does.
type PorterMode int

const (
	// PorterNLTK is NLTK's default NLTK_EXTENSIONS mode, the one
	// rouge-score uses (it constructs PorterStemmer() with no mode).
	PorterNLTK PorterMode = iota
	// PorterMartin is MARTIN_EXTENSIONS: Martin Porter's own revisions.
	PorterMartin
	// PorterOriginal is ORIGINAL_ALGORITHM, the 1980 paper.
	PorterOriginal
)

// PorterStemmer strips English suffixes (Porter, 1980) exactly as NLTK's
// nltk.stem.porter.PorterStemmer does in the chosen mode.
type PorterStemmer struct{ mode PorterMode }

// NewPorterStemmer returns a stemmer for mode.
func NewPorterStemmer(mode PorterMode) *PorterStemmer { return &PorterStemmer{mode: mode} }

// porterIrregular is NLTK_EXTENSIONS' table of irregular forms.
var porterIrregular = func() map[string]string {
	forms := map[string][]string{
		"sky": {"sky", "skies"}, "die": {"dying"}, "lie": {"lying"}, "tie": {"tying"},
		"news": {"news"}, "inning": {"innings", "inning"}, "outing": {"outings", "outing"},
		"canning": {"cannings", "canning"}, "howe": {"howe"}, "proceed": {"proceed"},
		"exceed": {"exceed"}, "succeed": {"succeed"},
	}
	pool := map[string]string{}
	for stem, words := range forms {
		for _, w := range words {
			pool[w] = stem
		}
	}
	return pool
}()

// Stem returns the stem of word, lowercased.
func (p *PorterStemmer) Stem(word string) string {
	stem := pyLower(word)
	if p.mode == PorterNLTK {
		if s, ok := porterIrregular[word]; ok {
			return s
		}
	}
	w := []rune(stem)
	if p.mode != PorterOriginal && len([]rune(word)) <= 2 {
		return stem
	}
	w = p.step1a(w)
	w = p.step1b(w)
	w = p.step1c(w)
	w = p.step2(w)
	w = p.step3(w)
	w = p.step4(w)
	w = p.step5a(w)
	w = p.step5b(w)
	return string(w)
}

func (p *PorterStemmer) isConsonant(w []rune, i int) bool {
	switch w[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !p.isConsonant(w, i-1)
	}
	return true
}

// measure is m in [C](VC){m}[V].
func (p *PorterStemmer) measure(w []rune) int {
	m := 0
	for i := 1; i < len(w); i++ {
		if !p.isConsonant(w, i-1) && p.isConsonant(w, i) {
			m++
		}
	}
	return m
}

func (p *PorterStemmer) positiveMeasure(w []rune) bool { return p.measure(w) > 0 }

func (p *PorterStemmer) containsVowel(w []rune) bool {
	for i := range w {
		if !p.isConsonant(w, i) {
			return true
		}
	}
	return false
}

// endsDoubleConsonant is condition *d.
func (p *PorterStemmer) endsDoubleConsonant(w []rune) bool {
	n := len(w)
	return n >= 2 && w[n-1] == w[n-2] && p.isConsonant(w, n-1)
}

// endsCVC is condition *o: consonant-vowel-consonant, the last not w, x or
// y (NLTK also accepts a two-letter vowel-consonant word).
func (p *PorterStemmer) endsCVC(w []rune) bool {
	n := len(w)
	if n >= 3 && p.isConsonant(w, n-3) && !p.isConsonant(w, n-2) && p.isConsonant(w, n-1) &&
		w[n-1] != 'w' && w[n-1] != 'x' && w[n-1] != 'y' {
		return true
	}
	return p.mode == PorterNLTK && n == 2 && !p.isConsonant(w, 0) && p.isConsonant(w, 1)
}

// porterRule replaces suffix by replacement when cond (nil: always) holds
// for the rest of the word. The suffix "*d" stands for a double consonant.
type porterRule struct {
	suffix, replacement string
	cond                func(stem []rune) bool
}

func hasSuffix(w []rune, suffix string) bool { return strings.HasSuffix(string(w), suffix) }

func withSuffix(stem []rune, s string) []rune {
	return append(append(make([]rune, 0, len(stem)+len(s)), stem...), []rune(s)...)
}

// applyRules applies the first rule whose suffix the word ends with; if its
// condition fails the word is returned unchanged.
func (p *PorterStemmer) applyRules(w []rune, rules []porterRule) []rune {
	for _, r := range rules {
		if r.suffix == "*d" && p.endsDoubleConsonant(w) {
			stem := w[:len(w)-2]
			if r.cond == nil || r.cond(stem) {
				return withSuffix(stem, r.replacement)
			}
			return w
		}
		if hasSuffix(w, r.suffix) {
			stem := w[:len(w)-len([]rune(r.suffix))]
			if r.cond == nil || r.cond(stem) {
				return withSuffix(stem, r.replacement)
			}
			return w
		}
	}
	return w
}

func (p *PorterStemmer) step1a(w []rune) []rune {
	if p.mode == PorterNLTK && hasSuffix(w, "ies") && len(w) == 4 {
		return withSuffix(w[:1], "ie")
	}
	return p.applyRules(w, []porterRule{{"sses", "ss", nil}, {"ies", "i", nil}, {"ss", "ss", nil}, {"s", "", nil}})
}

func (p *PorterStemmer) step1b(w []rune) []rune {
	if p.mode == PorterNLTK && hasSuffix(w, "ied") {
		if len(w) == 4 {
			return withSuffix(w[:1], "ie")
		}
		return withSuffix(w[:len(w)-3], "i")
	}
	if hasSuffix(w, "eed") {
		stem := w[:len(w)-3]
		if p.measure(stem) > 0 {
			return withSuffix(stem, "ee")
		}
		return w
	}
	var stem []rune
	ok := false
	for _, suffix := range []string{"ed", "ing"} {
		if hasSuffix(w, suffix) {
			stem = w[:len(w)-len(suffix)]
			if p.containsVowel(stem) {
				ok = true
				break
			}
		}
	}
	if !ok {
		return w
	}
	last := stem[len(stem)-1]
	return p.applyRules(stem, []porterRule{
		{"at", "ate", nil},
		{"bl", "ble", nil},
		{"iz", "ize", nil},
		{"*d", string(last), func([]rune) bool { return last != 'l' && last != 's' && last != 'z' }},
		{"", "e", func(s []rune) bool { return p.measure(s) == 1 && p.endsCVC(s) }},
	})
}

func (p *PorterStemmer) step1c(w []rune) []rune {
	cond := p.containsVowel
	if p.mode == PorterNLTK {
		cond = func(s []rune) bool { return len(s) > 1 && p.isConsonant(s, len(s)-1) }
	}
	return p.applyRules(w, []porterRule{{"y", "i", cond}})
}

func (p *PorterStemmer) step2(w []rune) []rune {
	if p.mode == PorterNLTK && hasSuffix(w, "alli") && p.positiveMeasure(w[:len(w)-4]) {
		return p.step2(withSuffix(w[:len(w)-4], "al"))
	}
	m := p.positiveMeasure
	bli := porterRule{"bli", "ble", m}
	if p.mode == PorterOriginal {
		bli = porterRule{"abli", "able", m}
	}
	rules := []porterRule{
		{"ational", "ate", m}, {"tional", "tion", m}, {"enci", "ence", m}, {"anci", "ance", m},
		{"izer", "ize", m}, bli, {"alli", "al", m}, {"entli", "ent", m}, {"eli", "e", m},
		{"ousli", "ous", m}, {"ization", "ize", m}, {"ation", "ate", m}, {"ator", "ate", m},
		{"alism", "al", m}, {"iveness", "ive", m}, {"fulness", "ful", m}, {"ousness", "ous", m},
		{"aliti", "al", m}, {"iviti", "ive", m}, {"biliti", "ble", m},
	}
	switch p.mode {
	case PorterNLTK:
		word := w
		rules = append(rules, porterRule{"fulli", "ful", m},
			porterRule{"logi", "log", func([]rune) bool { return m(word[:len(word)-3]) }})
	case PorterMartin:
		rules = append(rules, porterRule{"logi", "log", m})
	}
	return p.applyRules(w, rules)
}

func (p *PorterStemmer) step3(w []rune) []rune {
	m := p.positiveMeasure
	return p.applyRules(w, []porterRule{
		{"icate", "ic", m}, {"ative", "", m}, {"alize", "al", m}, {"iciti", "ic", m},
		{"ical", "ic", m}, {"ful", "", m}, {"ness", "", m},
	})
}

func (p *PorterStemmer) step4(w []rune) []rune {
	m := func(s []rune) bool { return p.measure(s) > 1 }
	return p.applyRules(w, []porterRule{
		{"al", "", m}, {"ance", "", m}, {"ence", "", m}, {"er", "", m}, {"ic", "", m},
		{"able", "", m}, {"ible", "", m}, {"ant", "", m}, {"ement", "", m}, {"ment", "", m},
		{"ent", "", m},
		{"ion", "", func(s []rune) bool { return p.measure(s) > 1 && (s[len(s)-1] == 's' || s[len(s)-1] == 't') }},
		{"ou", "", m}, {"ism", "", m}, {"ate", "", m}, {"iti", "", m}, {"ous", "", m},
		{"ive", "", m}, {"ize", "", m},
	})
}

func (p *PorterStemmer) step5a(w []rune) []rune {
	if !hasSuffix(w, "e") {
		return w
	}
	stem := w[:len(w)-1]
	if m := p.measure(stem); m > 1 || (m == 1 && !p.endsCVC(stem)) {
		return stem
	}
	return w
}

func (p *PorterStemmer) step5b(w []rune) []rune {
	return p.applyRules(w, []porterRule{{"ll", "l", func([]rune) bool { return p.measure(w[:len(w)-1]) > 1 }}})
}
