package llama

import (
	"math"
	"strings"
	"testing"
	"unsafe"

	"flywheel/internal/tensor"
	"flywheel/internal/tokenizer"
)

// Reference outputs of llama2.c run.c and llama.cpp for stories260K
// (shared/testdata/models/stories260K/README.md).
var (
	refPrompt    = []int{1, 403, 407, 261, 378} // BOS "Once upon a time"
	refGenerated = []int{432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292,
		411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267,
		337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310}
	refLogitsPos4 = []float32{-10.136574, -5.329465, -10.138085, -10.136853, -10.137212, -10.138330, -10.137267, -10.137639}
	refLogitsPos0 = []float32{-6.222911, 8.404342, -6.223737, -6.222542, -6.221951, -6.222875, -6.221880, -6.223416}
)

func loadStories(t testing.TB, format string) *Model {
	t.Helper()
	var (
		m   *Model
		err error
	)
	switch format {
	case "bin":
		m, err = Load(sharedData(t, "models/stories260K/stories260K.bin"), Options{Tokenizer: sharedData(t, "models/stories260K/tok512.bin")})
	case "gguf":
		m, err = Load(sharedData(t, "models/stories260K/stories260K-f32.gguf"), Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func greedy(t *testing.T, s *State, prompt []int, n int) []int {
	t.Helper()
	logits, err := s.Forward(prompt)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for len(out) < n {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		out = append(out, best)
		if logits, err = s.Forward([]int{best}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func assertLogits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i, w := range want {
		if d := math.Abs(float64(got[i] - w)); d > 1e-4 {
			t.Errorf("%s: logits[%d] = %.6f, reference %.6f (|Δ| %.2g > 1e-4)", what, i, got[i], w, d)
		}
	}
}

func TestStoriesMatchesReference(t *testing.T) {
	pool := tensor.NewPool(2)
	defer pool.Close()
	for _, format := range []string{"bin", "gguf", "gguf in huge pages"} {
		t.Run(format, func(t *testing.T) {
			m := loadStories(t, strings.Fields(format)[0])
			if strings.HasSuffix(format, "huge pages") {
				tied := unsafe.SliceData(m.Output.Data) == unsafe.SliceData(m.Embed.Data)
				if err := m.CopyToHugePages(); err != nil {
					t.Fatal(err)
				}
				if now := unsafe.SliceData(m.Output.Data) == unsafe.SliceData(m.Embed.Data); now != tied {
					t.Fatalf("output head tied to the embedding: %v before the copy, %v after", tied, now)
				}
			}
			if got := m.Tokenizer.Encode("Once upon a time", true, false); !equalInts(got, refPrompt) {
				t.Fatalf("prompt ids %v, reference %v", got, refPrompt)
			}
			for _, p := range []*tensor.Pool{nil, pool} {
				// prompt processed as one batch
				s := m.NewState(128, p)
				logits, err := s.Forward(refPrompt)
				if err != nil {
					t.Fatal(err)
				}
				assertLogits(t, "batched prompt, pos 4", logits, refLogitsPos4)
				s.Reset()
				if got := greedy(t, s, refPrompt, len(refGenerated)); !equalInts(got, refGenerated) {
					t.Errorf("greedy ids\n got %v\nwant %v", got, refGenerated)
				}
				// the same prompt one token at a time
				s.Reset()
				for i, id := range refPrompt {
					if logits, err = s.Forward([]int{id}); err != nil {
						t.Fatal(err)
					}
					if i == 0 {
						assertLogits(t, "pos 0", logits, refLogitsPos0)
					}
				}
				assertLogits(t, "token by token, pos 4", logits, refLogitsPos4)
			}
			// empty prompt: BOS only generates the prompt's words, then the story
			s := m.NewState(128, nil)
			want := append(append([]int(nil), refPrompt[1:]...), refGenerated...)
			if got := greedy(t, s, []int{1}, 64); !equalInts(got, want[:64]) {
				t.Errorf("greedy from BOS\n got %v\nwant %v", got, want[:64])
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var _ = tokenizer.TypeControl
