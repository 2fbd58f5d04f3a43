package dataset

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PIIKind is a kind of personal data that cleaning redacts.
type PIIKind int

// The kinds of personal data found and their placeholders.
const (
	PIIEmail      PIIKind = iota // name@example.com → [EMAIL]
	PIIPhone                     // +86 138 1234 5678, 13812345678, +1 (555) 123-4567, 010-12345678 → [PHONE]
	PIIChineseID                 // an 18-character resident ID with a valid date and checksum → [ID_NUMBER]
	PIIIP                        // an IPv4 or IPv6 address → [IP]
	PIICreditCard                // a card number of a major network (length, prefix) that passes the Luhn check → [CREDIT_CARD]
	numPIIKinds
)

var piiNames = [numPIIKinds]string{"email", "phone", "chinese_id", "ip", "credit_card"}
var piiPlaceholders = [numPIIKinds]string{"[EMAIL]", "[PHONE]", "[ID_NUMBER]", "[IP]", "[CREDIT_CARD]"}

func (k PIIKind) String() string { return piiNames[k] }

// Placeholder is the text that replaces a redacted value.
func (k PIIKind) Placeholder() string { return piiPlaceholders[k] }

// PIICounts counts redactions by kind.
type PIICounts struct {
	Email      int `json:"email"`
	Phone      int `json:"phone"`
	ChineseID  int `json:"chinese_id"`
	IP         int `json:"ip"`
	CreditCard int `json:"credit_card"`
}

func (c *PIICounts) add(k PIIKind, n int) {
	switch k {
	case PIIEmail:
		c.Email += n
	case PIIPhone:
		c.Phone += n
	case PIIChineseID:
		c.ChineseID += n
	case PIIIP:
		c.IP += n
	case PIICreditCard:
		c.CreditCard += n
	}
}

// Total is the number of redactions.
func (c PIICounts) Total() int { return c.Email + c.Phone + c.ChineseID + c.IP + c.CreditCard }

func (c *PIICounts) plus(o PIICounts) {
	c.Email += o.Email
	c.Phone += o.Phone
	c.ChineseID += o.ChineseID
	c.IP += o.IP
	c.CreditCard += o.CreditCard
}

// piiSpan is a found value: s[start:end] of a kind.
type piiSpan struct {
	start, end int
	kind       PIIKind
}

// RedactPII replaces the personal data in s by placeholders and counts them.
// Numbers are only redacted when they check out (a valid date and checksum
// for an ID, the Luhn check for a card, a mobile prefix or separators for a
// phone), so years, prices and code are left alone.
func RedactPII(s string) (string, PIICounts) {
	var counts PIICounts
	// A placeholder changes what surrounds its neighbours (a number after
	// an address is now after "]"), so redact until nothing changes.
	for range 4 {
		out, c := redactOnce(s)
		if out == s {
			break
		}
		s = out
		counts.plus(c)
	}
	return s, counts
}

func redactOnce(s string) (string, PIICounts) {
	var counts PIICounts
	if !mayHavePII(s) {
		return s, counts
	}
	var spans []piiSpan
	spans = findEmails(s, spans)
	spans = findNumbers(s, spans)
	spans = findIPv4(s, spans)
	spans = findIPv6(s, spans)
	if len(spans) == 0 {
		return s, counts
	}
	slices.SortFunc(spans, func(a, b piiSpan) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return (b.end - b.start) - (a.end - a.start)
	})
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp.start < last {
			continue // overlaps a longer or earlier find
		}
		b.WriteString(s[last:sp.start])
		b.WriteString(sp.kind.Placeholder())
		counts.add(sp.kind, 1)
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String(), counts
}

// mayHavePII is a quick filter: every kind needs an @ or several digits.
func mayHavePII(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '@':
			return true
		case c >= '0' && c <= '9':
			if digits++; digits >= 4 {
				return true
			}
		}
	}
	return digits >= 2 && strings.Contains(s, "::")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) || c == '_' }
func isHex(c byte) bool   { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

func isEmailLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '%' || c == '+' || c == '-'
}

func isDomainChar(c byte) bool { return isDigit(c) || isAlpha(c) || c == '.' || c == '-' }

func findEmails(s string, spans []piiSpan) []piiSpan {
	for at := strings.IndexByte(s, '@'); at >= 0; {
		l := at
		for l > 0 && isEmailLocal(s[l-1]) {
			l--
		}
		for l < at && s[l] == '.' {
			l++
		}
		r := at + 1
		for r < len(s) && isDomainChar(s[r]) {
			r++
		}
		for r > at+1 && (s[r-1] == '.' || s[r-1] == '-') {
			r--
		}
		if l < at && validDomain(s[at+1:r]) {
			spans = append(spans, piiSpan{l, r, PIIEmail})
		}
		next := strings.IndexByte(s[at+1:], '@')
		if next < 0 {
			break
		}
		at += 1 + next
	}
	return spans
}

// validDomain wants labels of letters, digits and inner hyphens, and a
// top-level label of two or more letters.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !isAlpha(tld[i]) {
			return false
		}
	}
	return true
}

// numberRun is a run of digit groups joined by single spaces or hyphens,
// with an optional leading "+"; a group may be parenthesised, "(555)".
type numberRun struct {
	start, end int
	digits     string // the digits alone
	plus       bool
	groups     []int // digits in each group
}

func (r *numberRun) shape(want ...int) bool { return slices.Equal(r.groups, want) }

// findNumbers finds ID numbers, card numbers and phone numbers.
func findNumbers(s string, spans []piiSpan) []piiSpan {
	var run numberRun
	var digits []byte
	for i := 0; i < len(s); {
		c := s[i]
		if !isDigit(c) && c != '+' && c != '(' {
			i++
			continue
		}
		var ok bool
		digits, ok = scanNumberRun(s, i, &run, digits[:0])
		if ok {
			if k, ok := classifyNumber(s, &run); ok {
				spans = append(spans, piiSpan{run.start, run.end, k})
			}
		}
		i = max(run.end, i+1) // a run is looked at once, found or not
	}
	return spans
}

// scanNumberRun reads the run starting at s[i], which must begin at a word
// boundary and end at one (no letter, digit, or decimal part around it).
func scanNumberRun(s string, i int, run *numberRun, digits []byte) ([]byte, bool) {
	*run = numberRun{start: i, end: i, groups: run.groups[:0]}
	if i > 0 {
		if p := s[i-1]; isAlnum(p) || p == '.' || p == '+' || p == '-' || p == '(' || p == ')' {
			return digits, false
		}
	}
	j := i
	if s[j] == '+' {
		run.plus = true
		j++
	}
	for {
		k, paren := j, j < len(s) && s[j] == '('
		if paren {
			k++
		}
		g := k
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == g || paren && (k >= len(s) || s[k] != ')' || k-g > 4) {
			break
		}
		digits = append(digits, s[g:k]...)
		run.groups = append(run.groups, k-g)
		if paren {
			k++
		}
		j, run.end = k, k
		if j+1 < len(s) && (s[j] == ' ' || s[j] == '-') && (isDigit(s[j+1]) || s[j+1] == '(') {
			j++
			continue
		}
		if paren && j < len(s) && isDigit(s[j]) { // (555)123-4567
			continue
		}
		break
	}
	run.digits = string(digits)
	if len(run.groups) == 0 {
		return digits, false
	}
	e := run.end
	if e < len(s) && isAlnum(s[e]) && !(s[e]|0x20 == 'x' && len(digits) == 17) {
		return digits, false
	}
	if e+1 < len(s) && (s[e] == '.' || s[e] == ',') && isDigit(s[e+1]) {
		return digits, false // a decimal number or a thousands-separated amount
	}
	return digits, true
}

func classifyNumber(s string, run *numberRun) (PIIKind, bool) {
	d := run.digits
	// An ID number's last character may be X.
	if len(d) == 17 && run.end < len(s) && s[run.end]|0x20 == 'x' {
		if run.end+1 < len(s) && isAlnum(s[run.end+1]) {
			return 0, false
		}
		if (run.shape(17) || run.shape(6, 8, 3)) && validChineseID(d+"X") {
			run.end++
			return PIIChineseID, true
		}
		return 0, false
	}
	if !run.plus && (run.shape(18) || run.shape(6, 8, 4)) && validChineseID(d) {
		return PIIChineseID, true
	}
	if !run.plus && cardNumber(d) && cardShape(run.groups) && luhn(d) {
		return PIICreditCard, true
	}
	if isPhone(run) {
		return PIIPhone, true
	}
	return 0, false
}

// cardNumber checks the length and issuer prefix of the major networks:
// Visa, Mastercard, American Express, Discover, JCB, UnionPay, Diners.
func cardNumber(d string) bool {
	n := len(d)
	prefix := func(lo, hi int) bool {
		w := len(strconv.Itoa(lo))
		p := atoi(d[:w])
		return p >= lo && p <= hi
	}
	switch {
	case n == 15:
		return prefix(34, 34) || prefix(37, 37)
	case n == 14:
		return prefix(36, 36) || prefix(38, 38) || prefix(300, 305)
	case n < 16 || n > 19:
		return false
	case n == 16 && (prefix(51, 55) || prefix(2221, 2720)):
		return true
	}
	return d[0] == '4' || prefix(6011, 6011) || prefix(65, 65) || prefix(644, 649) || prefix(62, 62) || prefix(3528, 3589)
}

// cardShape accepts one group, groups of four (the last may be shorter),
// and American Express's 4-6-5.
func cardShape(groups []int) bool {
	if len(groups) == 1 || slices.Equal(groups, []int{4, 6, 5}) {
		return true
	}
	for i, g := range groups {
		if g != 4 && (i < len(groups)-1 || g < 1) {
			return false
		}
	}
	return true
}

// isPhone accepts Chinese mobile numbers (with or without +86), numbers in
// international form (+, then 8 to 15 digits), North American numbers
// written 3-3-4, and Chinese landlines written 0AA(A)-NNNNNNN(N).
func isPhone(run *numberRun) bool {
	d, g := run.digits, run.groups
	mobile := func(g []int) bool {
		return slices.Equal(g, []int{11}) || slices.Equal(g, []int{3, 4, 4}) || slices.Equal(g, []int{3, 8})
	}
	switch {
	case !run.plus && chineseMobile(d) && mobile(g):
		return true
	case len(g) > 1 && (g[0] == 2 && strings.HasPrefix(d, "86") || g[0] == 4 && strings.HasPrefix(d, "0086")):
		return chineseMobile(d[g[0]:]) && mobile(g[1:])
	case run.plus && len(g) == 1 && strings.HasPrefix(d, "86"):
		return chineseMobile(d[2:])
	case run.plus:
		if d[0] == '0' {
			return false // no country code starts with 0
		}
		for _, n := range g[1:] {
			if n < 2 {
				return false
			}
		}
		return len(d) >= 8 && len(d) <= 15 && g[0] <= 4
	case run.shape(3, 3, 4) && d[0] >= '2', run.shape(1, 3, 3, 4) && d[0] == '1':
		return true
	case len(g) == 2 && d[0] == '0' && (g[0] == 3 || g[0] == 4) && (g[1] == 7 || g[1] == 8):
		return true
	}
	return false
}

// chineseMobile: 11 digits, 1 then 3-9.
func chineseMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

// validChineseID checks an 18-character resident ID (GB 11643): a region
// code, a real birth date YYYYMMDD, and the ISO 7064 MOD 11-2 check
// character.
func validChineseID(id string) bool {
	if len(id) != 18 || id[0] < '1' || id[0] > '9' {
		return false
	}
	for i := 0; i < 17; i++ {
		if !isDigit(id[i]) {
			return false
		}
	}
	year := atoi(id[6:10])
	month := atoi(id[10:12])
	day := atoi(id[12:14])
	if year < 1900 || year > 2100 || month < 1 || month > 12 || day < 1 {
		return false
	}
	if day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return false
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(id[i]-'0') * w
	}
	check := id[17]
	if check == 'x' {
		check = 'X'
	}
	return "10X98765432"[sum%11] == check
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// luhn checks the Luhn (mod 10) check digit of a card number.
func luhn(d string) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// findIPv4 finds dotted quads of octets 0-255 at word boundaries.
func findIPv4(s string, spans []piiSpan) []piiSpan {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || i > 0 && (isAlnum(s[i-1]) || s[i-1] == '.') {
			continue
		}
		j, octets := i, 0
		for octets < 4 {
			k := j
			for k < len(s) && k-j < 4 && isDigit(s[k]) {
				k++
			}
			if k == j || k-j > 3 {
				break
			}
			octets++
			j = k
			if octets < 4 {
				if j+1 >= len(s) || s[j] != '.' || !isDigit(s[j+1]) {
					break
				}
				j++
			}
		}
		if octets != 4 || j < len(s) && (isAlnum(s[j]) || s[j] == '.' && j+1 < len(s) && isDigit(s[j+1])) {
			continue
		}
		if a, err := netip.ParseAddr(s[i:j]); err == nil && a.Is4() {
			spans = append(spans, piiSpan{i, j, PIIIP})
			i = j
		}
	}
	return spans
}

// findIPv6 finds IPv6 addresses of three or more groups with a digit, so
// C++ scopes (std::move) and slices (a[1::2]) are left alone.
func findIPv6(s string, spans []piiSpan) []piiSpan {
	for i := strings.Index(s, ":"); i >= 0 && i < len(s); {
		l := i
		for l > 0 && (isHex(s[l-1]) || s[l-1] == ':') {
			l--
		}
		r := i
		for r < len(s) && (isHex(s[r]) || s[r] == ':' || s[r] == '.' && r+1 < len(s) && isDigit(s[r+1])) {
			r++
		}
		if ipv6Candidate(s, l, r) {
			spans = append(spans, piiSpan{l, r, PIIIP})
		}
		next := strings.IndexByte(s[r:], ':')
		if r == i {
			next = strings.IndexByte(s[r+1:], ':')
			if next >= 0 {
				next++
			}
		}
		if next < 0 {
			break
		}
		i = r + next
	}
	return spans
}

func ipv6Candidate(s string, l, r int) bool {
	if l > 0 && (isAlnum(s[l-1]) || s[l-1] == '.') || r < len(s) && isAlnum(s[r]) {
		return false
	}
	c := s[l:r]
	if strings.Count(c, ":") < 2 || strings.IndexAny(c, "0123456789") < 0 {
		return false
	}
	groups := 0
	for _, g := range strings.Split(c, ":") {
		if g != "" {
			groups++
		}
	}
	if groups < 3 {
		return false
	}
	a, err := netip.ParseAddr(c)
	return err == nil && a.Is6()
}
