package safetensors

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const llama2Config = `{
  "_name_or_path": "meta-llama/Llama-2-7b-hf",
  "architectures": ["LlamaForCausalLM"],
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 11008,
  "max_position_embeddings": 4096,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 32,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": null,
  "tie_word_embeddings": false,
  "torch_dtype": "float16",
  "transformers_version": "4.31.0.dev0",
  "use_cache": true,
  "vocab_size": 32000
}`

// TinyLlama omits rope_theta and head_dim: they take the defaults.
const tinyLlamaConfig = `{
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 2048,
  "initializer_range": 0.02,
  "intermediate_size": 5632,
  "max_position_embeddings": 2048,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 22,
  "num_key_value_heads": 4,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": null,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.35.0",
  "use_cache": true,
  "vocab_size": 32000
}`

const qwen2Config = `{
  "architectures": ["Qwen2ForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": [151645, 151643],
  "hidden_act": "silu",
  "hidden_size": 896,
  "initializer_range": 0.02,
  "intermediate_size": 4864,
  "max_position_embeddings": 32768,
  "max_window_layers": 24,
  "model_type": "qwen2",
  "num_attention_heads": 14,
  "num_hidden_layers": 24,
  "num_key_value_heads": 2,
  "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0,
  "sliding_window": 32768,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.40.1",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 151936
}`

const mistralConfig = `{
  "architectures": ["MistralForCausalLM"],
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 32768,
  "model_type": "mistral",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05,
  "rope_theta": 10000.0,
  "sliding_window": 4096,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.34.0.dev0",
  "use_cache": true,
  "vocab_size": 32000
}`

// A Vicuna-16k style linear RoPE interpolation, with the old "type" key.
const linearRopeConfig = `{
  "architectures": ["LlamaForCausalLM"],
  "bos_token_id": 1, "eos_token_id": 2,
  "hidden_size": 4096, "intermediate_size": 11008,
  "max_position_embeddings": 4096, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 32,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 4.0, "type": "linear"},
  "vocab_size": 32000
}`

// Llama 3.2 style: "rope_type" key, llama3 parameters, explicit head_dim,
// tied embeddings, eos list.
const llama3Config = `{
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "bos_token_id": 128000,
  "eos_token_id": [128001, 128008, 128009],
  "head_dim": 64,
  "hidden_act": "silu",
  "hidden_size": 2048,
  "intermediate_size": 8192,
  "max_position_embeddings": 131072,
  "mlp_bias": false,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 16,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {
    "factor": 32.0,
    "high_freq_factor": 4.0,
    "low_freq_factor": 1.0,
    "original_max_position_embeddings": 8192,
    "rope_type": "llama3"
  },
  "rope_theta": 500000.0,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "vocab_size": 128256
}`

// Minimal: only the required fields; everything else from the defaults.
const minimalConfig = `{"model_type": "llama", "hidden_size": 64, "intermediate_size": 172,
  "num_hidden_layers": 2, "num_attention_heads": 8, "vocab_size": 512,
  "bos_token_id": null, "eos_token_id": null, "head_dim": null, "sliding_window": null}`

func writeTemp(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadConfig(t *testing.T) {
	for _, tc := range []struct {
		name       string
		text       string
		want       Config
		qkv, oBias bool
	}{
		{"llama-2-7b", llama2Config, Config{
			Architectures: []string{"LlamaForCausalLM"}, ModelType: "llama",
			HiddenSize: 4096, IntermediateSize: 11008, NumHiddenLayers: 32, NumAttentionHeads: 32,
			NumKeyValueHeads: 32, VocabSize: 32000, MaxPositionEmbeddings: 4096, HeadDim: 128, HiddenAct: "silu",
			RMSNormEps: 1e-5, RopeTheta: 10000, TorchDType: "float16",
			BOSTokenID: []int{1}, EOSTokenIDs: []int{2},
		}, false, false},
		{"tinyllama", tinyLlamaConfig, Config{
			Architectures: []string{"LlamaForCausalLM"}, ModelType: "llama",
			HiddenSize: 2048, IntermediateSize: 5632, NumHiddenLayers: 22, NumAttentionHeads: 32,
			NumKeyValueHeads: 4, VocabSize: 32000, MaxPositionEmbeddings: 2048, HeadDim: 64, HiddenAct: "silu",
			RMSNormEps: 1e-5, RopeTheta: 10000, TorchDType: "bfloat16",
			BOSTokenID: []int{1}, EOSTokenIDs: []int{2},
		}, false, false},
		{"qwen2-0.5b", qwen2Config, Config{
			Architectures: []string{"Qwen2ForCausalLM"}, ModelType: "qwen2",
			HiddenSize: 896, IntermediateSize: 4864, NumHiddenLayers: 24, NumAttentionHeads: 14,
			NumKeyValueHeads: 2, VocabSize: 151936, MaxPositionEmbeddings: 32768, HeadDim: 64, HiddenAct: "silu",
			RMSNormEps: 1e-6, RopeTheta: 1e6, TieWordEmbeddings: true, TorchDType: "bfloat16",
			SlidingWindow: 0, // use_sliding_window is false
			BOSTokenID:    []int{151643}, EOSTokenIDs: []int{151645, 151643},
		}, true, false},
		{"mistral-7b", mistralConfig, Config{
			Architectures: []string{"MistralForCausalLM"}, ModelType: "mistral",
			HiddenSize: 4096, IntermediateSize: 14336, NumHiddenLayers: 32, NumAttentionHeads: 32,
			NumKeyValueHeads: 8, VocabSize: 32000, MaxPositionEmbeddings: 32768, HeadDim: 128, HiddenAct: "silu",
			RMSNormEps: 1e-5, RopeTheta: 10000, TorchDType: "bfloat16", SlidingWindow: 4096,
			BOSTokenID: []int{1}, EOSTokenIDs: []int{2},
		}, false, false},
		{"linear rope scaling", linearRopeConfig, Config{
			Architectures: []string{"LlamaForCausalLM"}, ModelType: "llama",
			HiddenSize: 4096, IntermediateSize: 11008, NumHiddenLayers: 32, NumAttentionHeads: 32,
			NumKeyValueHeads: 32, VocabSize: 32000, MaxPositionEmbeddings: 4096, HeadDim: 128, HiddenAct: "silu",
			RMSNormEps: 1e-5, RopeTheta: 10000, RopeScaling: &RopeScaling{Type: "linear", Factor: 4},
			BOSTokenID: []int{1}, EOSTokenIDs: []int{2},
		}, false, false},
		{"llama-3.2-1b", llama3Config, Config{
			Architectures: []string{"LlamaForCausalLM"}, ModelType: "llama",
			HiddenSize: 2048, IntermediateSize: 8192, NumHiddenLayers: 16, NumAttentionHeads: 32,
			NumKeyValueHeads: 8, VocabSize: 128256, MaxPositionEmbeddings: 131072, HeadDim: 64, HiddenAct: "silu",
			RMSNormEps: 1e-5, RopeTheta: 500000,
			RopeScaling:       &RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192},
			TieWordEmbeddings: true, TorchDType: "bfloat16",
			BOSTokenID: []int{128000}, EOSTokenIDs: []int{128001, 128008, 128009},
		}, false, false},
		{"defaults", minimalConfig, Config{
			ModelType:  "llama",
			HiddenSize: 64, IntermediateSize: 172, NumHiddenLayers: 2, NumAttentionHeads: 8,
			NumKeyValueHeads: 8, VocabSize: 512, MaxPositionEmbeddings: 2048, HeadDim: 8, HiddenAct: "silu",
			RMSNormEps: 1e-6, RopeTheta: 10000,
		}, false, false},
		{"llama with attention bias, token ids absent", `{"model_type": "llama", "hidden_size": 64, "intermediate_size": 172,
			"num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 512, "attention_bias": true}`, Config{
			ModelType:  "llama",
			HiddenSize: 64, IntermediateSize: 172, NumHiddenLayers: 2, NumAttentionHeads: 8,
			NumKeyValueHeads: 2, VocabSize: 512, MaxPositionEmbeddings: 2048, HeadDim: 8, HiddenAct: "silu",
			RMSNormEps: 1e-6, RopeTheta: 10000, AttentionBias: true,
			BOSTokenID: []int{1}, EOSTokenIDs: []int{2},
		}, true, true},
		{"transformers 5 rope_parameters", `{"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 172,
			"num_hidden_layers": 2, "num_attention_heads": 8, "vocab_size": 512, "dtype": "bfloat16",
			"rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"}}`, Config{
			ModelType:  "qwen2",
			HiddenSize: 64, IntermediateSize: 172, NumHiddenLayers: 2, NumAttentionHeads: 8,
			NumKeyValueHeads: 8, VocabSize: 512, MaxPositionEmbeddings: 32768, HeadDim: 8, HiddenAct: "silu",
			RMSNormEps: 1e-6, RopeTheta: 1e6, TorchDType: "bfloat16",
		}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ReadConfig(writeTemp(t, tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*c, tc.want) {
				t.Errorf("ReadConfig =\n%+v\nwant\n%+v", *c, tc.want)
			}
			if c.QKVBias() != tc.qkv || c.OBias() != tc.oBias {
				t.Errorf("QKVBias %v OBias %v, want %v %v", c.QKVBias(), c.OBias(), tc.qkv, tc.oBias)
			}

			// WriteConfig → ReadConfig gives the same Config.
			path := filepath.Join(t.TempDir(), "config.json")
			if err := WriteConfig(path, c); err != nil {
				t.Fatal(err)
			}
			back, err := ReadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, c) {
				raw, _ := os.ReadFile(path)
				t.Errorf("round trip =\n%+v\nwant\n%+v\nfile:\n%s", *back, *c, raw)
			}
		})
	}
}

func TestWriteConfigFieldNames(t *testing.T) {
	c, err := ReadConfig(writeTemp(t, qwen2Config))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := WriteConfig(path, c); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	for _, want := range []string{`"model_type": "qwen2"`, `"hidden_size": 896`, `"num_key_value_heads": 2`,
		`"rope_theta": 1000000`, `"tie_word_embeddings": true`, `"eos_token_id": [`, `"bos_token_id": 151643`,
		`"rms_norm_eps": 0.000001`, `"torch_dtype": "bfloat16"`, `"rope_scaling": null`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("config.json lacks %s:\n%s", want, raw)
		}
	}
}

func TestReadConfigErrors(t *testing.T) {
	without := func(field string) string { // renames the key, keeping the JSON valid
		return strings.Replace(llama2Config, `"`+field+`"`, `"unused_`+field+`"`, 1)
	}
	for _, tc := range []struct {
		name, text, want string
	}{
		{"missing hidden_size", without("hidden_size"), `missing required field "hidden_size"`},
		{"missing num_hidden_layers", without("num_hidden_layers"), `missing required field "num_hidden_layers"`},
		{"missing num_attention_heads", without("num_attention_heads"), `missing required field "num_attention_heads"`},
		{"missing intermediate_size", without("intermediate_size"), `missing required field "intermediate_size"`},
		{"missing vocab_size", without("vocab_size"), `missing required field "vocab_size"`},
		{"null vocab_size", strings.Replace(llama2Config, `"vocab_size": 32000`, `"vocab_size": null`, 1), `missing required field "vocab_size"`},
		{"not JSON", `{"hidden_size": 4096,`, "not a valid config.json"},
		{"string size", strings.Replace(llama2Config, `"hidden_size": 4096`, `"hidden_size": "4096"`, 1), "hidden_size"},
		{"bad eos", strings.Replace(llama2Config, `"eos_token_id": 2`, `"eos_token_id": "</s>"`, 1), `field "eos_token_id": want an integer, a list of integers or null`},
		{"heads not dividing hidden", strings.Replace(llama2Config, `"num_attention_heads": 32`, `"num_attention_heads": 30`, 1), "hidden_size 4096 is not divisible by num_attention_heads 30"},
		{"kv heads not dividing heads", strings.Replace(llama2Config, `"num_key_value_heads": 32`, `"num_key_value_heads": 5`, 1), "num_attention_heads 32 is not divisible by num_key_value_heads 5"},
		{"zero layers", strings.Replace(llama2Config, `"num_hidden_layers": 32`, `"num_hidden_layers": 0`, 1), "num_hidden_layers is 0, want > 0"},
		{"rope scaling without factor", strings.Replace(llama2Config, `"rope_scaling": null`, `"rope_scaling": {"type": "linear"}`, 1), "rope_scaling factor is 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, tc.text)
			_, err := ReadConfig(path)
			if err == nil {
				t.Fatal("ReadConfig succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not contain %q and the path", err, tc.want)
			}
		})
	}
	if _, err := ReadConfig(filepath.Join(t.TempDir(), "absent.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{HiddenSize: 64, IntermediateSize: 128, NumHiddenLayers: 2, NumAttentionHeads: 4,
		NumKeyValueHeads: 2, VocabSize: 100, MaxPositionEmbeddings: 128, RMSNormEps: 1e-6, RopeTheta: 10000}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	nemo := good
	nemo.HiddenSize, nemo.NumAttentionHeads, nemo.NumKeyValueHeads, nemo.HeadDim = 5120, 32, 8, 128
	if err := nemo.Validate(); err != nil {
		t.Errorf("explicit head_dim differing from hidden/heads: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"negative vocab", func(c *Config) { c.VocabSize = -1 }, "vocab_size is -1"},
		{"zero kv heads", func(c *Config) { c.NumKeyValueHeads = 0 }, "num_key_value_heads is 0"},
		{"zero max positions", func(c *Config) { c.MaxPositionEmbeddings = 0 }, "max_position_embeddings is 0"},
		{"odd head_dim", func(c *Config) { c.HeadDim = 15 }, "head_dim 15 must be positive and even"},
		{"hidden not divisible", func(c *Config) { c.HiddenSize = 66 }, "hidden_size 66 is not divisible by num_attention_heads 4"},
		{"zero eps", func(c *Config) { c.RMSNormEps = 0 }, "rms_norm_eps is 0"},
		{"NaN theta", func(c *Config) { c.RopeTheta = math.NaN() }, "rope_theta is NaN"},
		{"negative window", func(c *Config) { c.SlidingWindow = -1 }, "sliding_window is -1"},
		{"untyped scaling", func(c *Config) { c.RopeScaling = &RopeScaling{Factor: 2} }, "rope_scaling has neither rope_type nor type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}
