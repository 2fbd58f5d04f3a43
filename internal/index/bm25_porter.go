package index

// porterStem returns the stem of a lower-case ASCII word by the rules of
// Porter's 1980 algorithm ("An algorithm for suffix stripping"), with the
// two revisions of his reference implementation (-bli → -ble, -logi →
// -log). Words of one or two letters are kept.
func porterStem(word string) string {
	return string(porterStemBytes([]byte(word)))
}

// porterStemBytes stems word in place and returns the stem.
func porterStemBytes(word []byte) []byte {
	if len(word) <= 2 {
		return word
	}
	s := &porterStemmer{b: word, k: len(word) - 1}
	s.step1ab()
	if s.k > 0 {
		s.step1c()
		s.step2()
		s.step3()
		s.step4()
		s.step5()
	}
	return s.b[:s.k+1]
}

// porterStemmer holds a word b[0..k]; j marks the end of the stem when a suffix
// has matched.
type porterStemmer struct {
	b    []byte
	k, j int
}

// cons reports whether b[i] is a consonant: not a vowel, and a y only when
// it does not follow a consonant.
func (s *porterStemmer) cons(i int) bool {
	switch s.b[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !s.cons(i-1)
	}
	return true
}

// m is the measure of b[0..j]: the number of vowel-consonant sequences.
func (s *porterStemmer) m() int {
	n, i := 0, 0
	for ; i <= s.j && s.cons(i); i++ {
	}
	for i <= s.j {
		for ; i <= s.j && !s.cons(i); i++ {
		}
		if i > s.j {
			break
		}
		n++
		for ; i <= s.j && s.cons(i); i++ {
		}
	}
	return n
}

func (s *porterStemmer) vowelInStem() bool {
	for i := 0; i <= s.j; i++ {
		if !s.cons(i) {
			return true
		}
	}
	return false
}

// doubleCons reports whether b[i-1..i] is a double consonant.
func (s *porterStemmer) doubleCons(i int) bool {
	return i >= 1 && s.b[i] == s.b[i-1] && s.cons(i)
}

// cvc reports whether b[i-2..i] is consonant-vowel-consonant with the last
// not w, x or y (as in hop, not snow).
func (s *porterStemmer) cvc(i int) bool {
	if i < 2 || !s.cons(i) || s.cons(i-1) || !s.cons(i-2) {
		return false
	}
	c := s.b[i]
	return c != 'w' && c != 'x' && c != 'y'
}

// ends reports whether b[0..k] ends with suffix, and sets j before it.
func (s *porterStemmer) ends(suffix string) bool {
	n := len(suffix)
	if n > s.k+1 || s.b[s.k] != suffix[n-1] || string(s.b[s.k+1-n:s.k+1]) != suffix {
		return false
	}
	s.j = s.k - n
	return true
}

// setTo replaces b[j+1..k] with r.
func (s *porterStemmer) setTo(r string) {
	s.b = append(s.b[:s.j+1], r...)
	s.k = s.j + len(r)
}

// replace sets r when the measure before the suffix is positive.
func (s *porterStemmer) replace(r string) {
	if s.m() > 0 {
		s.setTo(r)
	}
}

// step1ab removes plurals and -ed or -ing.
func (s *porterStemmer) step1ab() {
	if s.b[s.k] == 's' {
		switch {
		case s.ends("sses"):
			s.k -= 2
		case s.ends("ies"):
			s.setTo("i")
		case s.b[s.k-1] != 's':
			s.k--
		}
	}
	if s.ends("eed") {
		if s.m() > 0 {
			s.k--
		}
		return
	}
	if !(s.ends("ed") || s.ends("ing")) || !s.vowelInStem() {
		return
	}
	s.k = s.j
	switch {
	case s.ends("at"):
		s.setTo("ate")
	case s.ends("bl"):
		s.setTo("ble")
	case s.ends("iz"):
		s.setTo("ize")
	case s.doubleCons(s.k):
		if c := s.b[s.k]; c != 'l' && c != 's' && c != 'z' {
			s.k--
		}
	default:
		s.j = s.k
		if s.m() == 1 && s.cvc(s.k) {
			s.setTo("e")
		}
	}
}

// step1c turns a terminal y into i when there is another vowel.
func (s *porterStemmer) step1c() {
	if s.ends("y") && s.vowelInStem() {
		s.b[s.k] = 'i'
	}
}

// porterRule replaces a suffix.
type porterRule struct{ suffix, with string }

var step2Rules = []porterRule{
	{"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"}, {"anci", "ance"},
	{"izer", "ize"}, {"bli", "ble"}, {"alli", "al"}, {"entli", "ent"}, {"eli", "e"},
	{"ousli", "ous"}, {"ization", "ize"}, {"ation", "ate"}, {"ator", "ate"},
	{"alism", "al"}, {"iveness", "ive"}, {"fulness", "ful"}, {"ousness", "ous"},
	{"aliti", "al"}, {"iviti", "ive"}, {"biliti", "ble"}, {"logi", "log"},
}

var step3Rules = []porterRule{
	{"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"},
	{"ical", "ic"}, {"ful", ""}, {"ness", ""},
}

// applyFirst applies the first rule whose suffix matches (when the measure
// allows) and reports whether one matched.
func (s *porterStemmer) applyFirst(rules []porterRule) {
	for _, r := range rules {
		if s.ends(r.suffix) {
			s.replace(r.with)
			return
		}
	}
}

func (s *porterStemmer) step2() { s.applyFirst(step2Rules) }
func (s *porterStemmer) step3() { s.applyFirst(step3Rules) }

var step4Suffixes = []string{
	"al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment",
	"ent", "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize",
}

// step4 removes a suffix when the measure before it exceeds 1.
func (s *porterStemmer) step4() {
	for _, suf := range step4Suffixes {
		if !s.ends(suf) {
			continue
		}
		if suf == "ion" && (s.j < 0 || (s.b[s.j] != 's' && s.b[s.j] != 't')) {
			continue
		}
		if s.m() > 1 {
			s.k = s.j
		}
		return
	}
}

// step5 removes a final -e and reduces -ll when the measure allows.
func (s *porterStemmer) step5() {
	s.j = s.k
	if s.b[s.k] == 'e' {
		if a := s.m(); a > 1 || (a == 1 && !s.cvc(s.k-1)) {
			s.k--
		}
	}
	if s.b[s.k] == 'l' && s.doubleCons(s.k) && s.m() > 1 {
		s.k--
	}
}
