package dataset

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// cleanCases are one rule each: the input, the output with only that rule
// on, and whether the rule counts a change.
var cleanCases = []struct {
	rule string // nfc, control, whitespace, html
	in   string
	want string
}{
	{"nfc", "Cafe\u0301 de\u0301ja\u0300 vu", "Café déjà vu"},
	{"nfc", "한국어", "한국어"},
	{"nfc", "already é", "already é"},
	{"nfc", "\u212b", "\u00c5"}, // the ångström sign is Å
	{"control", "a\x00b\x07c\x1bd\x7fe", "abcde"},
	{"control", "tab\tand\nnewline kept", "tab\tand\nnewline kept"},
	{"control", "dos\r\nline\rends", "dos\nline\nends"},
	{"control", "zero\u200bwidth\ufeff soft\u00adhyphen", "zerowidth softhyphen"},
	{"control", "bidi \u202eevil\u202c and \u2066isolate\u2069", "bidi evil and isolate"},
	{"control", "C1 \u0085 control", "C1  control"},
	{"control", "emoji 👨\u200d👩\u200d👧 joiners kept", "emoji 👨\u200d👩\u200d👧 joiners kept"},
	{"whitespace", "  padded  ", "padded"},
	{"whitespace", "trailing   \nspaces\t\nhere", "trailing\nspaces\nhere"},
	{"whitespace", "one\n\n\n\n\ntwo", "one\n\ntwo"},
	{"whitespace", "no\u00a0break\u2003em\u2009thin", "no break em thin"},
	{"whitespace", "中文\u3000全角空格", "中文\u3000全角空格"},
	{"whitespace", "def f():\n    return  1", "def f():\n    return  1"},
	{"html", "<p>Hello &amp; welcome</p><ul><li>one</li><li>two</li></ul>", "Hello & welcome\n\n- one\n- two"},
	{"html", "<div>a<br>b</div><script>alert(1)</script><p>c &lt;d&gt;</p>", "a\nb\nc <d>"},
	{"html", "<p>code:</p><pre>x  =  1\n  y</pre><p>done</p>", "code:\n\nx  =  1\n  y\ndone"},
	{"html", "<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table>", "k | v\na | 1"},
	{"html", "Use <b>bold</b> like this.", "Use <b>bold</b> like this."},
	{"html", "比如 <html> 和 </html> 是标签", "比如 <html> 和 </html> 是标签"},
	{"html", "```html\n<p>x</p><div>y</div><p>z</p>\n```", "```html\n<p>x</p><div>y</div><p>z</p>\n```"},
	{"html", "<!DOCTYPE html><html><body><p>a</p><p>b</p></body></html>", "<!DOCTYPE html><html><body><p>a</p><p>b</p></body></html>"},
	{"html", "if a < b and c > d then <p> is not a tag", "if a < b and c > d then <p> is not a tag"},
}

func TestCleanRules(t *testing.T) {
	for _, c := range cleanCases {
		opt := CleanOptions{SkipNFC: true, KeepControl: true, KeepWhitespace: true, KeepHTML: true, KeepPII: true}
		switch c.rule {
		case "nfc":
			opt.SkipNFC = false
		case "control":
			opt.KeepControl = false
		case "whitespace":
			opt.KeepWhitespace = false
		case "html":
			opt.KeepHTML = false
		}
		got, counts := CleanText(c.in, opt)
		if got != c.want {
			t.Errorf("%s %q: got %q, want %q", c.rule, c.in, got, c.want)
		}
		changed := counts.NFC + counts.Control + counts.Whitespace + counts.HTML
		if wantChanged := c.in != c.want; (changed == 1) != wantChanged || changed > 1 {
			t.Errorf("%s %q: counts %+v", c.rule, c.in, counts)
		}
	}
}

// piiCases pair texts with their redaction and what was counted.
var piiCases = []struct {
	in, want string
	counts   PIICounts
}{
	// e-mail
	{"write to john.doe+tag@mail.example.co.uk.", "write to [EMAIL].", PIICounts{Email: 1}},
	{"a@b, not@domain, @handle, x@y.z", "a@b, not@domain, @handle, x@y.z", PIICounts{}},
	{"邮箱是zhang_san@qq.com。", "邮箱是[EMAIL]。", PIICounts{Email: 1}},
	// Chinese mobile numbers and other phones
	{"call 13812345678 now", "call [PHONE] now", PIICounts{Phone: 1}},
	{"电话：138 1234 5678，或者+86 139-1234-5678", "电话：[PHONE]，或者[PHONE]", PIICounts{Phone: 2}},
	{"+8613812345678 and 0086 13812345678", "[PHONE] and [PHONE]", PIICounts{Phone: 2}},
	{"US: +1 (555) 123-4567, (555) 123-4567, 555-123-4567", "US: [PHONE], [PHONE], [PHONE]", PIICounts{Phone: 3}},
	{"UK +44 20 7946 0958", "UK [PHONE]", PIICounts{Phone: 1}},
	{"座机 010-12345678 或 0755-1234567", "座机 [PHONE] 或 [PHONE]", PIICounts{Phone: 2}},
	{"12345678901 is not a mobile (12), nor 1381234567 (10 digits)", "12345678901 is not a mobile (12), nor 1381234567 (10 digits)", PIICounts{}},
	{"dates 2023-10-15, 1999-2000, years 1998 2024, pi 3.14159265358979", "dates 2023-10-15, 1999-2000, years 1998 2024, pi 3.14159265358979", PIICounts{}},
	{"1 2 3 4 5 6 7 8 9 10 11 and 1,234,567.89 and 138123456789", "1 2 3 4 5 6 7 8 9 10 11 and 1,234,567.89 and 138123456789", PIICounts{}},
	{"order #13812345678X", "order #13812345678X", PIICounts{}},
	// Chinese resident ID numbers (ISO 7064 MOD 11-2 check)
	{"身份证号11010519491231002X。", "身份证号[ID_NUMBER]。", PIICounts{ChineseID: 1}},
	{"ID 110105194912310021 and 440524198001010013", "ID 110105194912310021 and [ID_NUMBER]", PIICounts{ChineseID: 1}},
	{"lower-case check 11010519491231002x", "lower-case check [ID_NUMBER]", PIICounts{ChineseID: 1}},
	{"spaced 110105 19491231 002X", "spaced [ID_NUMBER]", PIICounts{ChineseID: 1}},
	{"bad date 110105194913310028, bad check 110105194912310020", "bad date 110105194913310028, bad check 110105194912310020", PIICounts{}},
	// IP addresses
	{"server 192.168.1.10:8080 and 8.8.8.8.", "server [IP]:8080 and [IP].", PIICounts{IP: 2}},
	{"256.1.1.1, version 1.2.3.4.5, v1.2.3.4", "256.1.1.1, version 1.2.3.4.5, v1.2.3.4", PIICounts{}},
	{"v6 2001:db8:85a3::8a2e:370:7334 and 2001:0db8:0000:0000:0000:ff00:0042:8329", "v6 [IP] and [IP]", PIICounts{IP: 2}},
	{"std::cout, a[1::2], ::1, 12:30:45, fe80::1", "std::cout, a[1::2], ::1, 12:30:45, fe80::1", PIICounts{}},
	// card numbers (issuer prefix, length and Luhn)
	{"visa 4111 1111 1111 1111, mc 5555-5555-5555-4444", "visa [CREDIT_CARD], mc [CREDIT_CARD]", PIICounts{CreditCard: 2}},
	{"amex 3782 822463 10005 and 4012888888881881", "amex [CREDIT_CARD] and [CREDIT_CARD]", PIICounts{CreditCard: 2}},
	{"luhn fails 4111 1111 1111 1112; 13 digits 4212883012996", "luhn fails 4111 1111 1111 1112; 13 digits 4212883012996", PIICounts{}},
}

func TestRedactPII(t *testing.T) {
	for _, c := range piiCases {
		got, counts := RedactPII(c.in)
		if got != c.want || counts != c.counts {
			t.Errorf("%q:\n got %q %+v\nwant %q %+v", c.in, got, counts, c.want, c.counts)
		}
	}
}

func TestChineseIDChecksum(t *testing.T) {
	for id, want := range map[string]bool{
		"11010519491231002X": true,
		"110105194912310021": false,
		"440524198001010013": true,
		"440524198001010014": false,
		"320311770706001":    false, // the old 15-digit form
		"000000200001010000": false, // region code 0
		"110105200002300015": false, // 30 February, though the check digit is right
	} {
		if got := validChineseID(id); got != want {
			t.Errorf("%s: %v, want %v", id, got, want)
		}
	}
}

// TestCleanerSkipsRequestedHTML keeps markup when the prompt asks for HTML.
func TestCleanerSkipsRequestedHTML(t *testing.T) {
	html := "<table><tr><td>a</td></tr><tr><td>b</td></tr></table>"
	asked := Example{Messages: []Message{{RoleUser, "Write an HTML table of a and b"}, {RoleAssistant, html}}}
	scraped := Example{Messages: []Message{{RoleUser, "List a and b"}, {RoleAssistant, html}}}
	c := NewCleaner(CleanOptions{})
	if c.Clean(&asked); asked.Messages[1].Content != html {
		t.Errorf("asked for HTML: %q", asked.Messages[1].Content)
	}
	if c.Clean(&scraped); scraped.Messages[1].Content != "a\nb" {
		t.Errorf("scraped HTML: %q", scraped.Messages[1].Content)
	}
	r := c.Report()
	if r.Records != 2 || r.Changed != 1 || r.Texts.HTML != 1 {
		t.Errorf("report %+v", r)
	}
}

// TestCleanerLeavesJSON checks that tools and function calls are not cleaned.
func TestCleanerLeavesJSON(t *testing.T) {
	call := `{"name": "mail", "arguments": {"to": "a@b.com"}}`
	ex := Example{Tools: `[{"name": "mail"}]`, Messages: []Message{
		{RoleUser, "mail a@b.com  "}, {RoleFunctionCall, call}, {RoleObservation, "sent"}, {RoleAssistant, "done"},
	}}
	NewCleaner(CleanOptions{}).Clean(&ex)
	if ex.Messages[0].Content != "mail [EMAIL]" || ex.Messages[1].Content != call {
		t.Errorf("got %+v", ex.Messages)
	}
}

// FuzzCleanText checks that cleaning never panics, keeps valid UTF-8, and
// gives the same text when run again (HTML aside, whose entities may
// decode to new markup).
func FuzzCleanText(f *testing.F) {
	for _, c := range cleanCases {
		f.Add(c.in)
	}
	for _, c := range piiCases {
		f.Add(c.in)
	}
	// long runs that a careless scanner would rescan from every position
	for _, unit := range []string{"1 ", "0:", "a@", "1.", "<p>", "1-", "(1)", "+1 "} {
		f.Add(strings.Repeat(unit, 500) + "x")
	}
	f.Fuzz(func(t *testing.T, s string) {
		CleanText(s, CleanOptions{}) // HTML on: must not panic
		opt := CleanOptions{KeepHTML: true}
		once, _ := CleanText(s, opt)
		if utf8.ValidString(s) && !utf8.ValidString(once) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if twice, _ := CleanText(once, opt); twice != once {
			t.Fatalf("not idempotent: %q → %q → %q", s, once, twice)
		}
	})
}
