package eval

import (
	"math"
	"reflect"
	"testing"
)

func TestQAReference(t *testing.T) {
	for _, c := range loadCases(t, "qa_em_f1_cases.json") {
		switch c.Metric {
		case "squad":
			got, err := SQuAD(c.Hypotheses, c.References)
			if err != nil {
				t.Fatal(err)
			}
			var want QAScore
			decode(t, c, c.Expected, &want)
			near(t, c, "exact_match", got.ExactMatch, want.ExactMatch)
			near(t, c, "f1", got.F1, want.F1)
		case "squad_v2":
			preds := make([]SQuADv2Prediction, len(c.Hypotheses))
			for i, h := range c.Hypotheses {
				preds[i] = SQuADv2Prediction{Text: h}
			}
			got, err := SQuADv2(preds, c.References, 1.0)
			if err != nil {
				t.Fatal(err)
			}
			var want SQuADv2Score
			decode(t, c, c.Expected, &want)
			if !reflect.DeepEqual(got, want) {
				// DeepEqual is exact; fall back to the tolerance field by field.
				for name, p := range map[string][2]float64{
					"exact": {got.Exact, want.Exact}, "f1": {got.F1, want.F1}, "total": {float64(got.Total), float64(want.Total)},
					"HasAns_exact": {got.HasAnsExact, want.HasAnsExact}, "HasAns_f1": {got.HasAnsF1, want.HasAnsF1},
					"HasAns_total": {float64(got.HasAnsTotal), float64(want.HasAnsTotal)},
					"best_exact":   {got.BestExact, want.BestExact}, "best_exact_thresh": {got.BestExactThresh, want.BestExactThresh},
					"best_f1": {got.BestF1, want.BestF1}, "best_f1_thresh": {got.BestF1Thresh, want.BestF1Thresh},
				} {
					near(t, c, name, p[0], p[1])
				}
			}
		case "exact_match":
			var s struct {
				Regexes           []string `json:"regexes_to_ignore"`
				IgnoreCase        bool     `json:"ignore_case"`
				IgnorePunctuation bool     `json:"ignore_punctuation"`
				IgnoreNumbers     bool     `json:"ignore_numbers"`
			}
			decode(t, c, c.Settings, &s)
			refs := make([]string, len(c.References))
			for i, r := range c.References {
				refs[i] = r[0]
			}
			got, err := ExactMatch(c.Hypotheses, refs, ExactMatchConfig{s.Regexes, s.IgnoreCase, s.IgnorePunctuation, s.IgnoreNumbers})
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				ExactMatch float64 `json:"exact_match"`
			}
			decode(t, c, c.Expected, &want)
			near(t, c, "exact_match", got, want.ExactMatch)
		default:
			t.Errorf("%s: unknown metric %q", c.ID, c.Metric)
		}
	}
}

func TestSQuADRules(t *testing.T) {
	for _, c := range []struct {
		pred, gold string
		em         bool
		f1, f1v2   float64
	}{
		{"The Cat", "cat", true, 1, 1},
		{"a cat sat", "the cat sat down", false, 0.8, 0.8}, // P 2/2, R 2/3
		{"théâtre", "the théâtre", true, 1, 1},             // "the" is a word; "théâtre" has no boundary inside
		{"", "", true, 0, 1},                               // v1 F1 is 0 without tokens; v2 counts agreement
		{"something", "", false, 0, 0},
		{"Beyonce", "Beyoncé and Bruno Mars", false, 0, 0},
	} {
		if got := SQuADExact(c.pred, c.gold); got != c.em {
			t.Errorf("SQuADExact(%q, %q) = %v", c.pred, c.gold, got)
		}
		if got := SQuADF1(c.pred, c.gold); math.Abs(got-c.f1) > 1e-12 {
			t.Errorf("SQuADF1(%q, %q) = %v, want %v", c.pred, c.gold, got, c.f1)
		}
		if got := squadV2F1(c.pred, c.gold); math.Abs(got-c.f1v2) > 1e-12 {
			t.Errorf("squadV2F1(%q, %q) = %v, want %v", c.pred, c.gold, got, c.f1v2)
		}
	}
}

func TestSQuADv2NoAnswer(t *testing.T) {
	preds := []SQuADv2Prediction{{"1976", 0.1}, {"", 0.9}, {"Paris", 0.7}, {"wrong", 0.2}}
	golds := [][]string{{"1976"}, nil, nil, {"right"}}
	got, err := SQuADv2(preds, golds, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// Threshold 0.5: q3 (p=0.7) counts as "no answer" and is right; q2 empty
	// prediction is right; q1 right; q4 wrong.
	want := SQuADv2Score{
		Exact: 75, F1: 75, Total: 4,
		HasAnsExact: 50, HasAnsF1: 50, HasAnsTotal: 2,
		NoAnsExact: 100, NoAnsF1: 100, NoAnsTotal: 2,
		// Scanning by probability from 2 no-answer questions: q1 +1 (3, at
		// 0.1), q4 +0, q3 −1 ("Paris" given), q2 +0. Best 3 at 0.1.
		BestExact: 75, BestExactThresh: 0.1, BestF1: 75, BestF1Thresh: 0.1,
	}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestCMRC2018(t *testing.T) {
	for _, c := range []struct {
		pred, gold string
		em         bool
		f1         float64
	}{
		{"北京天安门", "天安门", false, 0.75},
		{"《红楼梦》", "红楼梦", true, 1},
		{"1990年", "1990年代", false, 0.8},
		{"iPhone 6 手机", "iphone 6", false, 2.0 / 3},
		{" 鲁迅 ", "鲁迅", true, 1},
		{"上海", "北京", false, 0},
	} {
		if got := CMRCExact(c.pred, c.gold); got != c.em {
			t.Errorf("CMRCExact(%q, %q) = %v", c.pred, c.gold, got)
		}
		if got := CMRCF1(c.pred, c.gold); math.Abs(got-c.f1) > 1e-12 {
			t.Errorf("CMRCF1(%q, %q) = %v, want %v", c.pred, c.gold, got, c.f1)
		}
	}
	got, err := CMRC2018([]string{"北京天安门", "上海"}, [][]string{{"天安门", "北京天安门"}, {"北京"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (QAScore{ExactMatch: 50, F1: 50, Total: 2}); got != want {
		t.Errorf("CMRC2018 = %+v, want %+v", got, want)
	}
	if got, want := CMRCSegment("Hello, world! 你好"), []string{"hello", ",", "world", "!", "你", "好"}; !reflect.DeepEqual(got, want) {
		t.Errorf("CMRCSegment = %q, want %q", got, want)
	}
}
