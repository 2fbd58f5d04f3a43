package eval

import (
	"encoding/json"
	"os"
	"testing"
)

// TestPorterNLTK compares every mode of the stemmer with NLTK's
// PorterStemmer on 9,000 real English words (testdata/make_porter.py).
func TestPorterNLTK(t *testing.T) {
	data, err := os.ReadFile("testdata/porter_nltk.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]json.RawMessage
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	var words []string
	if err := json.Unmarshal(ref["words"], &words); err != nil {
		t.Fatal(err)
	}
	for mode, name := range map[PorterMode]string{PorterNLTK: "NLTK_EXTENSIONS", PorterMartin: "MARTIN_EXTENSIONS", PorterOriginal: "ORIGINAL_ALGORITHM"} {
		var want []string
		if err := json.Unmarshal(ref[name], &want); err != nil {
			t.Fatal(err)
		}
		if len(want) != len(words) {
			t.Fatalf("%s: %d stems for %d words", name, len(want), len(words))
		}
		st := NewPorterStemmer(mode)
		bad := 0
		for i, w := range words {
			if got := st.Stem(w); got != want[i] {
				if bad++; bad <= 10 {
					t.Errorf("%s: Stem(%q) = %q, want %q", name, w, got, want[i])
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d stems differ", name, bad, len(words))
		}
	}
}
