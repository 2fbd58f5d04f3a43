package dataset

import (
	"strings"
	"unicode"
)

// The languages DetectLanguage tells apart.
const (
	LangChinese  = "zh"
	LangEnglish  = "en"
	LangJapanese = "ja"
	LangKorean   = "ko"
	LangRussian  = "ru" // any Cyrillic-script text
	LangArabic   = "ar" // any Arabic-script text
	LangFrench   = "fr"
	LangGerman   = "de"
	LangSpanish  = "es"
	LangOther    = "other"   // letters of another language
	LangUnknown  = "unknown" // no letters at all
)

// stopwords are frequent function words that tell Latin-script languages apart.
var stopwords = map[string][]string{
	LangEnglish: strings.Fields("the and of to in is that it for you was with on as are be this have not at by from or an but what all were we when your can there which their will would if do has more how about"),
	LangFrench:  strings.Fields("le la les des est et une un du que qui dans pour pas sur au avec ce il elle sont vous nous mais ou plus cette"),
	LangGerman:  strings.Fields("der die das und ist nicht ein eine zu den mit von sich des auf für im dem auch es sie ich wir sind wird oder aber"),
	LangSpanish: strings.Fields("el la los las de que y en un una es por con para del se no al lo como más pero sus le ya o este está son"),
}

var stopwordLang = func() map[string][]string {
	m := map[string][]string{}
	for lang, words := range stopwords {
		for _, w := range words {
			m[w] = append(m[w], lang)
		}
	}
	return m
}()

// DetectLanguage names the main language of a text by its script (Han,
// kana, Hangul, Cyrillic, Arabic, Latin) and, for Latin script, by counting
// common function words. Chinese wins when the text has as many Han
// characters as Latin words, so a Chinese answer with code in it is still
// Chinese. It is a heuristic for filtering and statistics, not a
// classifier: a few words of French may read as English. Markdown code
// blocks are not looked at.
func DetectLanguage(text string) string {
	text = withoutCode(text)
	var han, kana, hangul, cyrillic, arabic, otherLetters, latinWords int
	inLatin := false
	for _, r := range text {
		latin := r < 0x250 && unicode.IsLetter(r)
		if latin && !inLatin {
			latinWords++
		}
		inLatin = latin
		switch {
		case latin:
		case unicode.Is(unicode.Han, r):
			han++
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana++
		case unicode.Is(unicode.Hangul, r):
			hangul++
		case unicode.Is(unicode.Cyrillic, r):
			cyrillic++
		case unicode.Is(unicode.Arabic, r):
			arabic++
		case unicode.IsLetter(r):
			otherLetters++
		}
	}
	cjk := han + kana + hangul
	switch {
	case kana > 0 && kana*5 >= cjk && cjk >= latinWords:
		return LangJapanese
	case hangul > 0 && hangul*2 >= cjk && cjk >= latinWords:
		return LangKorean
	case han > 0 && cjk >= latinWords:
		return LangChinese
	case cyrillic > 0 && cyrillic >= 3*latinWords:
		return LangRussian
	case arabic > 0 && arabic >= 3*latinWords:
		return LangArabic
	case latinWords > 0:
		return latinLanguage(text)
	case otherLetters > 0:
		return LangOther
	}
	return LangUnknown
}

// latinLanguage picks the language whose function words are most frequent;
// English when none are found in a short ASCII text ("hi", "Thanks!").
func latinLanguage(text string) string {
	counts := map[string]int{}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	for _, w := range words {
		for _, lang := range stopwordLang[w] {
			counts[lang]++
		}
	}
	best, n := "", 0
	for _, lang := range []string{LangEnglish, LangFrench, LangGerman, LangSpanish} {
		if counts[lang] > n {
			best, n = lang, counts[lang]
		}
	}
	if best != "" {
		return best
	}
	if len(words) <= 5 && isASCII(text) {
		return LangEnglish
	}
	return LangOther
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// withoutCode drops Markdown fenced code blocks (``` ... ```).
func withoutCode(text string) string {
	if !strings.Contains(text, "```") {
		return text
	}
	var b strings.Builder
	for i, part := range strings.Split(text, "```") {
		if i%2 == 0 {
			b.WriteString(part)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
