package llama

import (
	"math"
	"path/filepath"
	"testing"

	"flywheel/internal/lora"
	"flywheel/internal/tensor"
)

// Applying an adapter at run time gives the logits of the merged model,
// within 1e-4, for a batched prompt and for tokens decoded one at a time;
// also through PEFT and GGUF files of the adapter and a GGUF file of the
// merged model.
func TestAdapterEqualsMerged(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    func(t *testing.T) *Model
	}{
		{"stories260K", func(t *testing.T) *Model { return loadStories(t, "gguf") }},
		{"qwen2 shape", func(t *testing.T) *Model { return smallRandom(t, tinyQwen, tensor.F32, 21) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m(t)
			a := randomLoRA(t, m, lora.Config{Rank: 4, Alpha: 8, Targets: lora.AllTargets()}, 9)
			for i := range a.Params {
				a.Params[i] *= 0.5
			}
			dir := t.TempDir()
			if err := a.SavePEFT(dir); err != nil {
				t.Fatal(err)
			}
			if err := a.SaveGGUF(filepath.Join(dir, "a.gguf")); err != nil {
				t.Fatal(err)
			}
			merged, err := m.Merged(a, tensor.F32)
			if err != nil {
				t.Fatal(err)
			}
			mergedPath := filepath.Join(dir, "merged.gguf")
			if err := SaveGGUF(mergedPath, merged); err != nil {
				t.Fatal(err)
			}
			fromFile, err := Load(mergedPath, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fromFile.Close()
			prompt := []int{1, 5, 9, 17, 33, 2, 40}
			want := logitsOf(t, merged.NewState(32, nil), prompt)
			if fromFile.Config == merged.Config { // GGUF keeps no sliding window: compare the file where it can hold the model
				fileLogits := logitsOf(t, fromFile.NewState(32, nil), prompt)
				for i := range want {
					if math.Abs(float64(fileLogits[i]-want[i])) > 1e-5 {
						t.Fatalf("the merged model read back from GGUF differs at logit %d", i)
					}
				}
			} else if tc.name == "stories260K" {
				t.Fatalf("merged GGUF config %+v, want %+v", fromFile.Config, merged.Config)
			}
			for _, src := range []string{"", dir, filepath.Join(dir, "a.gguf")} {
				ad := a
				if src != "" {
					if ad, err = m.LoadAdapter(src); err != nil {
						t.Fatal(err)
					}
				}
				s := m.NewState(32, nil)
				if err := s.SetAdapter(ad); err != nil {
					t.Fatal(err)
				}
				got := logitsOf(t, s, prompt)
				var worst float64
				for i := range want {
					worst = max(worst, math.Abs(float64(got[i]-want[i])))
				}
				if worst > 1e-4 {
					t.Errorf("adapter %q: logits differ from the merged model by %.3g", src, worst)
				}
			}
			// and the adapter matters
			base := logitsOf(t, m.NewState(32, nil), prompt)
			var diff float64
			for i := range base {
				diff = max(diff, math.Abs(float64(base[i]-want[i])))
			}
			if diff < 1e-2 {
				t.Errorf("the adapter changes the logits by only %.3g", diff)
			}
		})
	}
}

// logitsOf feeds prompt as a batch and then decodes three argmax tokens one
// at a time, returning all logits seen.
func logitsOf(t *testing.T, s *State, prompt []int) []float32 {
	t.Helper()
	logits, err := s.ForwardAll(prompt)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]float32(nil), logits...)
	V := len(logits) / len(prompt)
	last := logits[len(logits)-V:]
	for i := 0; i < 3; i++ {
		best := 0
		for j, v := range last {
			if v > last[best] {
				best = j
			}
		}
		if last, err = s.Forward([]int{best}); err != nil {
			t.Fatal(err)
		}
		out = append(out, last...)
	}
	return out
}

func TestSetAdapterRejectsOtherShapes(t *testing.T) {
	m := smallRandom(t, tinyLlama, tensor.F32, 22)
	other := smallRandom(t, tinyQwen, tensor.F32, 23)
	a := randomLoRA(t, other, lora.Config{Rank: 2, Alpha: 2, Targets: []lora.Target{lora.Q}}, 1)
	if err := m.NewState(8, nil).SetAdapter(a); err == nil {
		t.Error("an adapter of another model was accepted")
	}
	if _, err := m.Merged(a, tensor.F32); err == nil {
		t.Error("merged an adapter of another model")
	}
}

// A PEFT adapter is in Hugging Face's q/k row order whatever the base it
// was trained on: saved from the GGUF (interleaved) stories260K and loaded
// for its Hugging Face export (halves), it gives the same logits.
func TestPEFTAcrossRopeOrders(t *testing.T) {
	gg := loadStories(t, "gguf")
	a := randomLoRA(t, gg, lora.Config{Rank: 3, Alpha: 6, Targets: []lora.Target{lora.Q, lora.K, lora.V}}, 10)
	dir := t.TempDir()
	if err := a.SavePEFT(filepath.Join(dir, "adapter")); err != nil {
		t.Fatal(err)
	}
	if err := SaveHF(filepath.Join(dir, "hf"), gg, 0); err != nil {
		t.Fatal(err)
	}
	hf, err := Load(filepath.Join(dir, "hf"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	if hf.Config.RopeStyle != tensor.RopeHalves {
		t.Fatalf("the Hugging Face export has %v RoPE", hf.Config.RopeStyle)
	}
	b, err := hf.LoadAdapter(filepath.Join(dir, "adapter"))
	if err != nil {
		t.Fatal(err)
	}
	prompt := []int{1, 403, 407, 261, 378}
	sg, sh := gg.NewState(16, nil), hf.NewState(16, nil)
	sg.SetAdapter(a)
	sh.SetAdapter(b)
	lg, lh := logitsOf(t, sg, prompt), logitsOf(t, sh, prompt)
	for i := range lg {
		if math.Abs(float64(lg[i]-lh[i])) > 1e-4 {
			t.Fatalf("logit %d: GGUF base %g, Hugging Face base %g", i, lg[i], lh[i])
		}
	}
}
