package eval

import "testing"

func testNMTBLEU(t *testing.T, c metricCase) {
	var s struct {
		MaxOrder int  `json:"max_order"`
		Smooth   bool `json:"smooth"`
	}
	decode(t, c, c.Settings, &s)
	got := NMTBLEU(c.Hypotheses, c.References, s.MaxOrder, s.Smooth)
	var want NMTBLEUScore
	decode(t, c, c.Expected, &want)
	near(t, c, "bleu", got.BLEU, want.BLEU)
	near(t, c, "brevity_penalty", got.BrevityPenalty, want.BrevityPenalty)
	near(t, c, "length_ratio", got.LengthRatio, want.LengthRatio)
	near(t, c, "translation_length", float64(got.TranslationLength), float64(want.TranslationLength))
	near(t, c, "reference_length", float64(got.ReferenceLength), float64(want.ReferenceLength))
	for i := range want.Precisions {
		near(t, c, "precisions", got.Precisions[i], want.Precisions[i])
	}
}

func testGoogleBLEU(t *testing.T, c metricCase) {
	var s struct {
		MinLen int `json:"min_len"`
		MaxLen int `json:"max_len"`
	}
	decode(t, c, c.Settings, &s)
	var want struct {
		GoogleBLEU float64 `json:"google_bleu"`
	}
	decode(t, c, c.Expected, &want)
	near(t, c, "google_bleu", GoogleBLEU(c.Hypotheses, c.References, s.MinLen, s.MaxLen), want.GoogleBLEU)
}
