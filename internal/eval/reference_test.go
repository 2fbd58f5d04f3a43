package eval

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// metricCase is one case of ../shared/testdata/metrics/*.json (format in its
// README): settings, inputs and the reference implementation's values.
type metricCase struct {
	ID         string          `json:"id"`
	Metric     string          `json:"metric"`
	Settings   json.RawMessage `json:"settings"`
	Hypotheses []string        `json:"hypotheses"`
	References [][]string      `json:"references"`
	Expected   json.RawMessage `json:"expected"`
	Tolerance  float64         `json:"tolerance"`
	Inputs     json.RawMessage `json:"inputs"`
	Source     string          `json:"source"`
}

const metricsDir = "../../../shared/testdata/metrics"

// sharedPath returns the path of a shared test file, skipping the test when
// it is absent (failing when CI is set).
func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(metricsDir, rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared test data missing: %v", err)
		}
		t.Skipf("shared test data missing: %s", p)
	}
	return p
}

func loadCases(t testing.TB, file string) []metricCase {
	t.Helper()
	data, err := os.ReadFile(sharedPath(t, file))
	if err != nil {
		t.Fatal(err)
	}
	var cases []metricCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return cases
}

func decode(t testing.TB, c metricCase, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", c.ID, err)
	}
}

func near(t testing.TB, c metricCase, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > c.Tolerance || math.IsNaN(got) {
		t.Errorf("%s %s: got %.12g, want %.12g (tolerance %g; %s)", c.ID, what, got, want, c.Tolerance, c.Source)
	}
}

type bleuSettings struct {
	Level          string   `json:"level"`
	Tokenize       string   `json:"tokenize"`
	SmoothMethod   string   `json:"smooth_method"`
	SmoothValue    *float64 `json:"smooth_value"`
	Lowercase      bool     `json:"lowercase"`
	Force          bool     `json:"force"`
	EffectiveOrder bool     `json:"effective_order"`
	MaxNgramOrder  int      `json:"max_ngram_order"`
}

func (s bleuSettings) config() BLEUConfig {
	return BLEUConfig{Tokenize: s.Tokenize, SmoothMethod: s.SmoothMethod, SmoothValue: s.SmoothValue,
		Lowercase: s.Lowercase, Force: s.Force, EffectiveOrder: s.EffectiveOrder, MaxNgramOrder: s.MaxNgramOrder}
}

func TestBLEUReference(t *testing.T) { runBLEUCases(t, loadCases(t, "bleu_cases.json")) }

func TestCHRFReference(t *testing.T) { runCHRFCases(t, loadCases(t, "chrf_cases.json")) }

func TestTERReference(t *testing.T) { runTERCases(t, loadCases(t, "ter_cases.json")) }

// TestSacreBLEURandom checks seeded random corpora scored by sacreBLEU
// itself (testdata/make_sacrebleu.py): every tokenizer including zh, Unicode
// text, several references, chrF++ and every TER option.
func TestSacreBLEURandom(t *testing.T) {
	data, err := os.ReadFile("testdata/sacrebleu_random.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []metricCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	byMetric := map[string][]metricCase{}
	for _, c := range cases {
		byMetric[c.Metric] = append(byMetric[c.Metric], c)
	}
	runBLEUCases(t, byMetric["bleu"])
	runCHRFCases(t, byMetric["chrf"])
	runTERCases(t, byMetric["ter"])
	if len(byMetric["bleu"]) == 0 || len(byMetric["chrf"]) == 0 || len(byMetric["ter"]) == 0 {
		t.Fatalf("missing cases: %d bleu, %d chrf, %d ter", len(byMetric["bleu"]), len(byMetric["chrf"]), len(byMetric["ter"]))
	}
}

type signed struct {
	Signature string `json:"signature"`
}

func checkSignature(t *testing.T, c metricCase, got string) {
	t.Helper()
	var want signed
	decode(t, c, c.Expected, &want)
	if want.Signature != "" && got != want.Signature {
		t.Errorf("%s signature: got %q, want %q", c.ID, got, want.Signature)
	}
}

func runBLEUCases(t *testing.T, cases []metricCase) {
	n := 0
	for _, c := range cases {
		switch c.Metric {
		case "bleu":
			var s bleuSettings
			decode(t, c, c.Settings, &s)
			b, err := NewBLEU(s.config())
			if err != nil {
				t.Fatalf("%s: %v", c.ID, err)
			}
			var got BLEUScore
			if s.Level == "sentence" {
				got = b.SentenceScore(c.Hypotheses[0], c.References[0])
			} else if got, err = b.CorpusScore(c.Hypotheses, c.References); err != nil {
				t.Fatalf("%s: %v", c.ID, err)
			}
			var want struct {
				Score  float64   `json:"score"`
				Counts []float64 `json:"counts"`
				Totals []float64 `json:"totals"`
			}
			decode(t, c, c.Expected, &want)
			near(t, c, "score", got.Score, want.Score)
			checkSignature(t, c, b.Signature(RefCount(c.References)))
			for i := range want.Counts {
				near(t, c, "counts", got.Counts[i], want.Counts[i])
				near(t, c, "totals", got.Totals[i], want.Totals[i])
			}
		case "bleu_from_stats":
			var s bleuSettings
			decode(t, c, c.Settings, &s)
			var in struct {
				Correct []float64 `json:"correct"`
				Total   []float64 `json:"total"`
				SysLen  float64   `json:"sys_len"`
				RefLen  float64   `json:"ref_len"`
			}
			decode(t, c, c.Inputs, &in)
			b, err := NewBLEU(s.config())
			if err != nil {
				t.Fatalf("%s: %v", c.ID, err)
			}
			stats := append(append([]float64{in.SysLen, in.RefLen}, in.Correct...), in.Total...)
			var want struct{ Score float64 }
			decode(t, c, c.Expected, &want)
			near(t, c, "score", b.ScoreStats(stats).Score, want.Score)
		case "bleu_nmt":
			testNMTBLEU(t, c)
		case "google_bleu":
			testGoogleBLEU(t, c)
		default:
			t.Errorf("%s: unknown metric %q", c.ID, c.Metric)
			continue
		}
		n++
	}
	t.Logf("%d BLEU cases", n)
}

func runCHRFCases(t *testing.T, cases []metricCase) {
	for _, c := range cases {
		var s struct {
			Level        string `json:"level"`
			CharOrder    int    `json:"char_order"`
			WordOrder    int    `json:"word_order"`
			Beta         int    `json:"beta"`
			Whitespace   bool   `json:"whitespace"`
			EpsSmoothing bool   `json:"eps_smoothing"`
			Lowercase    bool   `json:"lowercase"`
		}
		decode(t, c, c.Settings, &s)
		ch, err := NewCHRF(CHRFConfig{CharOrder: s.CharOrder, WordOrder: s.WordOrder, Beta: s.Beta,
			Whitespace: s.Whitespace, EpsSmoothing: s.EpsSmoothing, Lowercase: s.Lowercase})
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		var got float64
		if s.Level == "sentence" {
			got = ch.SentenceScore(c.Hypotheses[0], c.References[0])
		} else if got, err = ch.CorpusScore(c.Hypotheses, c.References); err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		var want struct{ Score float64 }
		decode(t, c, c.Expected, &want)
		near(t, c, "score", got, want.Score)
		checkSignature(t, c, ch.Signature(RefCount(c.References)))
	}
}

func runTERCases(t *testing.T, cases []metricCase) {
	for _, c := range cases {
		var s struct {
			Normalized    bool `json:"normalized"`
			NoPunct       bool `json:"no_punct"`
			AsianSupport  bool `json:"asian_support"`
			CaseSensitive bool `json:"case_sensitive"`
		}
		decode(t, c, c.Settings, &s)
		ter := NewTER(TERConfig{Normalized: s.Normalized, NoPunct: s.NoPunct, AsianSupport: s.AsianSupport, CaseSensitive: s.CaseSensitive})
		got, err := ter.CorpusScore(c.Hypotheses, c.References)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		var want struct{ Score float64 }
		decode(t, c, c.Expected, &want)
		near(t, c, "score", got.Score, want.Score)
		checkSignature(t, c, ter.Signature(RefCount(c.References)))
	}
}
