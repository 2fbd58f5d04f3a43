package longdoc

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"flywheel/internal/eval"
	"flywheel/internal/llama"
	"flywheel/internal/llm"
	"flywheel/internal/refdata"
)

// qmsumMeetings are the six QMSum meetings, read from their raw files with
// the human summary of the whole meeting.
func qmsumMeetings(t *testing.T) []Transcript {
	t.Helper()
	var out []Transcript
	for _, d := range readQMSumDocs(t) {
		raw, err := os.ReadFile(refdata.Path(t, filepath.Join("long/qmsum/raw", d.ID+".json")))
		if err != nil {
			t.Fatal(err)
		}
		tr := parseOne(t, raw)
		tr.ID = d.ID
		out = append(out, tr)
	}
	return out
}

// summaryRouge scores as summarisation papers (QMSum's included) report:
// rouge-score with the Porter stemmer, F-measures.
func summaryRouge(t *testing.T) *eval.Rouge {
	r, err := eval.NewRouge(eval.RougeConfig{Types: []string{"rouge1", "rouge2", "rougeL"}, UseStemmer: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var markup = regexp.MustCompile(`\{[a-z]+\}`)

// leadWords is the length of the baseline: about the mean length of the
// six human summaries (116 words).
const leadWords = 120

// lead is the trivial extractive baseline: the first leadWords words of
// the transcript, disfluency markup removed.
func lead(text string) string {
	return firstWords(markup.ReplaceAllString(text, " "), leadWords)
}

// The reference figure for summaries of these meetings: ROUGE of the lead
// baseline against the human summaries (go test -run LeadBaseline -v).
func TestLeadBaselineROUGE(t *testing.T) {
	r := summaryRouge(t)
	want := map[string][3]float64{ // measured with this test; pinned against regressions
		"ES2004a":     {0.1518, 0.0360, 0.0982},
		"TS3004a":     {0.1531, 0.0097, 0.0957},
		"Bed003":      {0.1778, 0.0000, 0.0978},
		"Bro004":      {0.0988, 0.0125, 0.0741},
		"covid_4":     {0.2364, 0.0579, 0.1406},
		"education_4": {0.1835, 0.0185, 0.1284},
	}
	var mean [3]float64
	meetings := qmsumMeetings(t)
	for _, m := range meetings {
		s := r.Score(m.Reference, lead(m.Text()))
		got := [3]float64{s[0].FMeasure, s[1].FMeasure, s[2].FMeasure}
		t.Logf("%-12s ROUGE-1 %.4f  ROUGE-2 %.4f  ROUGE-L %.4f", m.ID, got[0], got[1], got[2])
		for i := range mean {
			mean[i] += got[i] / float64(len(meetings))
		}
		for i, w := range want[m.ID] {
			if math.Abs(got[i]-w) > 5e-5 {
				t.Errorf("%s: ROUGE %.4f, want %.4f", m.ID, got, want[m.ID])
			}
		}
	}
	t.Logf("%-12s ROUGE-1 %.4f  ROUGE-2 %.4f  ROUGE-L %.4f  (%s)", "mean", mean[0], mean[1], mean[2], r.Signature())
}

// With a real model named by the environment — FLYWHEEL_LONGDOC_MODEL (a
// local model file) or FLYWHEEL_LONGDOC_URL and FLYWHEEL_LONGDOC_LLM (an
// OpenAI-compatible endpoint and model) — the minutes' summaries of the six
// meetings are scored against the human ones:
//
//	FLYWHEEL_LONGDOC_URL=https://api.deepseek.com FLYWHEEL_LONGDOC_LLM=deepseek-chat \
//	  go test ./internal/longdoc -run RealModel -v -timeout 1h
func TestMinutesRealModelROUGE(t *testing.T) {
	m, opt := realModel(t)
	r := summaryRouge(t)
	var mean [3]float64
	meetings := qmsumMeetings(t)
	for _, meeting := range meetings {
		doc, err := Minutes(context.Background(), m, meeting.Text(), MinutesOptions{Options: opt, Title: meeting.ID})
		if err != nil {
			t.Fatalf("%s: %v", meeting.ID, err)
		}
		s := r.Score(meeting.Reference, doc.Summary)
		t.Logf("%-12s ROUGE-1 %.4f  ROUGE-2 %.4f  ROUGE-L %.4f  (%d chunks, %d calls, %d tokens, $%.4f)",
			meeting.ID, s[0].FMeasure, s[1].FMeasure, s[2].FMeasure, len(doc.Chunks), doc.Calls, doc.Usage.TotalTokens, doc.Cost)
		for i := range mean {
			mean[i] += s[i].FMeasure / float64(len(meetings))
		}
	}
	t.Logf("%-12s ROUGE-1 %.4f  ROUGE-2 %.4f  ROUGE-L %.4f", "mean", mean[0], mean[1], mean[2])
}

// realModel opens the model the environment names, or skips.
func realModel(t *testing.T) (llm.Model, Options) {
	if path := os.Getenv("FLYWHEEL_LONGDOC_MODEL"); path != "" {
		lm, err := llama.Load(path, llama.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lm.Close() })
		local, err := llm.NewLocalFromModel(lm, llm.LocalConfig{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { local.Close() })
		tok := lm.Tokenizer
		return local, Options{Context: local.Context(), Concurrency: 1, Count: func(s string) int { return len(tok.Encode(s, false, false)) }}
	}
	url, name := os.Getenv("FLYWHEEL_LONGDOC_URL"), os.Getenv("FLYWHEEL_LONGDOC_LLM")
	if url == "" || name == "" {
		t.Skip("no real model: set FLYWHEEL_LONGDOC_MODEL, or FLYWHEEL_LONGDOC_URL and FLYWHEEL_LONGDOC_LLM")
	}
	remote, err := llm.NewOpenAI(llm.OpenAIConfig{URL: url, Model: name})
	if err != nil {
		t.Fatal(err)
	}
	return remote, Options{}
}
