package llama

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"flywheel/internal/gguf"
	"flywheel/internal/tensor"
)

func TestLlama2CBadInput(t *testing.T) {
	good, err := os.ReadFile(sharedData(t, "models/stories260K/stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	header := func(fields ...int32) []byte {
		b := make([]byte, 0, 28)
		for _, f := range fields {
			b = binary.LittleEndian.AppendUint32(b, uint32(f))
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than the 28-byte header"},
		{"header only", good[:28], "tensor token_embedding: needs bytes"},
		{"truncated in a layer", good[:len(good)/2], "truncated"},
		{"trailing bytes", append(append([]byte(nil), good...), 0, 0, 0, 0), "bytes left after the last tensor"},
		{"zero dim", header(0, 172, 5, 8, 4, 512, 512), "dim = 0 is out of range"},
		{"huge vocab", header(64, 172, 5, 8, 4, 1<<30, 512), "vocab_size = 1073741824 is out of range"},
		{"heads do not divide", header(64, 172, 5, 7, 4, 512, 512), "do not divide"},
		{"version 2", append(header(llama2cMagic, 2), make([]byte, 248)...), "version 2 is not supported"},
		{"short v1 header", header(llama2cMagic, 1, 0, 0, 0, 0, 0), "version 1 header truncated"},
	}
	for _, tc := range tests {
		_, err := parseLlama2C(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	// the file name leads the message
	p := filepath.Join(t.TempDir(), "broken.bin")
	os.WriteFile(p, good[:100], 0o644)
	if _, err := Load(p, Options{}); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("load of a truncated file: %v (want the path in it)", err)
	}
}

func FuzzLlama2C(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 28))
	small, _ := Random(Config{Arch: "llama", Dim: 8, Hidden: 8, Layers: 1, Heads: 2, KVHeads: 1, HeadDim: 4, Vocab: 4,
		ContextLen: 4, NormEps: 1e-5, RopeBase: 1e4, RopeScale: 1, RopeDims: 4}, tensor.F32, 1)
	f.Add(llama2cBytes(small))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseLlama2C(data)
		if err != nil {
			return
		}
		if err := m.check(); err != nil {
			t.Fatalf("parsed a model that fails its own check: %v", err)
		}
	})
}

// llama2cBytes writes m in llama2.c's version-0 layout (the fuzz seed).
func llama2cBytes(m *Model) []byte {
	c := m.Config
	var b []byte
	for _, v := range []int{c.Dim, c.Hidden, c.Layers, c.Heads, c.KVHeads, c.Vocab, c.ContextLen} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	each := func(get func(l Layer) []byte) {
		for _, l := range m.Layers {
			b = append(b, get(l)...)
		}
	}
	b = append(b, m.Embed.Data...)
	each(func(l Layer) []byte { return tensor.Bytes(l.AttnNorm) })
	each(func(l Layer) []byte { return l.Wq.Data })
	each(func(l Layer) []byte { return l.Wk.Data })
	each(func(l Layer) []byte { return l.Wv.Data })
	each(func(l Layer) []byte { return l.Wo.Data })
	each(func(l Layer) []byte { return tensor.Bytes(l.FFNNorm) })
	each(func(l Layer) []byte { return l.WGate.Data })
	each(func(l Layer) []byte { return l.WDown.Data })
	each(func(l Layer) []byte { return l.WUp.Data })
	b = append(b, tensor.Bytes(m.OutNorm)...)
	return append(b, make([]byte, 4*c.ContextLen*c.HeadDim)...) // freq_cis real + imag
}

func TestGGUFBadInput(t *testing.T) {
	c := syntheticConfigs[0].cfg
	c.RopeStyle = tensor.RopeInterleaved
	m, err := Random(c, tensor.F32, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.gguf")
	if err := SaveGGUF(good, m); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	// rewrite the file with one change to its keys or tensors
	n := 0
	variant := func(editKV func([]gguf.KV) []gguf.KV, editT func([]gguf.WriterTensor) []gguf.WriterTensor) string {
		kv := append([]gguf.KV(nil), f.KV...)
		var ts []gguf.WriterTensor
		for i := range f.Tensors {
			ti := &f.Tensors[i]
			ts = append(ts, gguf.WriterTensor{Name: ti.Name, Dims: ti.Dims, Type: ti.Type, Data: f.TensorData(ti)})
		}
		if editKV != nil {
			kv = editKV(kv)
		}
		if editT != nil {
			ts = editT(ts)
		}
		n++
		p := filepath.Join(dir, fmt.Sprintf("variant%d.gguf", n))
		if err := gguf.WriteFile(p, kv, ts); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dropKey := func(key string) func([]gguf.KV) []gguf.KV {
		return func(kv []gguf.KV) []gguf.KV {
			var out []gguf.KV
			for _, e := range kv {
				if e.Key != key {
					out = append(out, e)
				}
			}
			return out
		}
	}
	setKey := func(key string, v gguf.Value) func([]gguf.KV) []gguf.KV {
		return func(kv []gguf.KV) []gguf.KV {
			for i := range kv {
				if kv[i].Key == key {
					kv[i].Value = v
				}
			}
			return kv
		}
	}
	editTensor := func(name string, edit func(*gguf.WriterTensor)) func([]gguf.WriterTensor) []gguf.WriterTensor {
		return func(ts []gguf.WriterTensor) []gguf.WriterTensor {
			var out []gguf.WriterTensor
			for _, x := range ts {
				if x.Name == name {
					if edit == nil {
						continue
					}
					edit(&x)
				}
				out = append(out, x)
			}
			return out
		}
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"missing key", variant(dropKey("llama.block_count"), nil), `llama.block_count`},
		{"key of wrong type", variant(setKey("llama.embedding_length", gguf.String("64")), nil), `llama.embedding_length`},
		{"unknown architecture", variant(setKey("general.architecture", gguf.String("gpt2")), nil), `architecture "gpt2" is not supported`},
		{"unsupported rope scaling", variant(func(kv []gguf.KV) []gguf.KV {
			return append(kv, gguf.KV{Key: "llama.rope.scaling.type", Value: gguf.String("yarn")})
		}, nil), `"yarn" is not supported`},
		{"missing tensor", variant(nil, editTensor("blk.1.ffn_up.weight", nil)), "tensor blk.1.ffn_up.weight is missing"},
		{"wrong shape", variant(nil, editTensor("blk.0.attn_k.weight", func(x *gguf.WriterTensor) {
			x.Dims = []uint64{64, 8}
			x.Data = x.Data[:64*8*4]
		})), "layer 0 k: shape [8, 64], want [16, 64]"},
		{"unsupported dtype", variant(nil, editTensor("blk.0.attn_q.weight", func(x *gguf.WriterTensor) {
			x.Type = gguf.TensorType(28) // F64
			x.Data = append(append([]byte(nil), x.Data...), x.Data...)
		})), "blk.0.attn_q.weight: type F64 is not supported"},
	}
	for _, tc := range tests {
		_, err := Load(tc.path, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestHFBadInput(t *testing.T) {
	c := syntheticConfigs[2].cfg
	c.RopeStyle = tensor.RopeHalves
	m, err := Random(c, tensor.BF16, 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(dir string)
		want string
	}{
		{"missing config field", func(dir string) { rewrite(t, filepath.Join(dir, "config.json"), `"num_hidden_layers": 2,`, "") }, "num_hidden_layers"},
		{"unsupported model type", func(dir string) {
			rewrite(t, filepath.Join(dir, "config.json"), `"model_type": "qwen2"`, `"model_type": "gpt2"`)
		}, `model_type "gpt2" is not supported`},
		{"more layers than tensors", func(dir string) {
			rewrite(t, filepath.Join(dir, "config.json"), `"num_hidden_layers": 2`, `"num_hidden_layers": 3`)
		}, "tensor model.layers.2.input_layernorm.weight is missing"},
		{"missing shard", func(dir string) {
			shards, _ := filepath.Glob(filepath.Join(dir, "model-00002-of-*.safetensors"))
			if len(shards) != 1 {
				t.Fatalf("want several shards, have %v", shards)
			}
			os.Remove(shards[0])
		}, "model-00002-of-0000"},
		{"no weights", func(dir string) {
			names, _ := filepath.Glob(filepath.Join(dir, "model*"))
			for _, n := range names {
				os.Remove(n)
			}
		}, "safetensors"},
	}
	for _, tc := range tests {
		dir := t.TempDir()
		if err := SaveHF(dir, m, 30_000); err != nil {
			t.Fatal(err)
		}
		tc.edit(dir)
		_, err := Load(dir, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func rewrite(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q:\n%s", path, old, b)
	}
	os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

// Weights stay in the memory map: loading a 20 MB model allocates a small
// fraction of it on the heap.
func TestWeightsAreMapped(t *testing.T) {
	c := Config{Arch: "llama", Dim: 256, Hidden: 512, Layers: 4, Heads: 4, KVHeads: 4, HeadDim: 64, Vocab: 2000,
		ContextLen: 64, NormEps: 1e-5, RopeBase: 1e4, RopeScale: 1, RopeDims: 64}
	m, err := Random(c, tensor.F32, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	if err := SaveGGUF(path, m); err != nil {
		t.Fatal(err)
	}
	if err := SaveHF(filepath.Join(dir, "hf"), m, 0); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	for _, p := range []string{path, filepath.Join(dir, "hf")} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		lm, err := Load(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		lm.Close()
		if heap := after.TotalAlloc - before.TotalAlloc; heap > uint64(st.Size())/20 {
			t.Errorf("%s: loading a %d-byte model allocated %d bytes on the heap", p, st.Size(), heap)
		}
	}
}
