package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// layers is a small LLaMA-shaped tensor list: 2 layers of 5 tensors plus
// embedding, norm and head; 784 data bytes in all.
func layers() []Tensor {
	var ts []Tensor
	add := func(name string, dt DType, shape ...int64) {
		n := int(shape[0]) * dt.Size()
		for _, d := range shape[1:] {
			n *= int(d)
		}
		ts = append(ts, Tensor{Name: name, DType: dt, Shape: shape, Data: seq(byte(len(ts)*17), n)})
	}
	add("model.embed_tokens.weight", BF16, 16, 4)
	for l := range 2 {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", F32, 4)
		add(p+"self_attn.q_proj.weight", BF16, 4, 4)
		add(p+"self_attn.k_proj.weight", BF16, 2, 4)
		add(p+"mlp.up_proj.weight", F16, 8, 4)
		add(p+"mlp.down_proj.weight", F16, 4, 8)
	}
	add("model.norm.weight", F32, 4)
	add("lm_head.weight", F32, 16, 4)
	return ts
}

func checkSet(t *testing.T, s *Set, want []Tensor) {
	t.Helper()
	var names []string
	for _, w := range want {
		names = append(names, w.Name)
		got, ok := s.Tensor(w.Name)
		if !ok {
			t.Errorf("tensor %q missing", w.Name)
			continue
		}
		if got.DType != w.DType || !slices.Equal(got.Shape, w.Shape) || !bytes.Equal(got.Data, w.Data) {
			t.Errorf("tensor %q = %s %v, want %s %v (or data differs)", w.Name, got.DType, got.Shape, w.DType, w.Shape)
		}
	}
	slices.Sort(names)
	if !slices.Equal(s.Names(), names) {
		t.Errorf("Names = %q\nwant %q", s.Names(), names)
	}
}

func TestWriteShardedOpenDir(t *testing.T) {
	dir := t.TempDir()
	tensors := layers()
	if err := WriteSharded(dir, tensors, 200); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, IndexFileName))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Metadata struct {
			TotalSize int64 `json:"total_size"`
		} `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	if idx.Metadata.TotalSize != 784 {
		t.Errorf("total_size %d, want 784", idx.Metadata.TotalSize)
	}
	// Filled in order, a new shard before a tensor would overflow 200 bytes;
	// lm_head (256 bytes) gets a shard of its own.
	wantShards := []string{
		"model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
		"model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors",
	}
	wantMap := map[string]string{
		"model.embed_tokens.weight":              wantShards[0], // 128
		"model.layers.0.input_layernorm.weight":  wantShards[0], // 16
		"model.layers.0.self_attn.q_proj.weight": wantShards[0], // 32
		"model.layers.0.self_attn.k_proj.weight": wantShards[0], // 16 → 192
		"model.layers.0.mlp.up_proj.weight":      wantShards[1], // 64
		"model.layers.0.mlp.down_proj.weight":    wantShards[1], // 64
		"model.layers.1.input_layernorm.weight":  wantShards[1], // 16
		"model.layers.1.self_attn.q_proj.weight": wantShards[1], // 32
		"model.layers.1.self_attn.k_proj.weight": wantShards[1], // 16 → 192
		"model.layers.1.mlp.up_proj.weight":      wantShards[2], // 64
		"model.layers.1.mlp.down_proj.weight":    wantShards[2], // 64
		"model.norm.weight":                      wantShards[2], // 16 → 144
		"lm_head.weight":                         wantShards[3], // 256
	}
	if !maps.Equal(idx.WeightMap, wantMap) {
		t.Errorf("weight_map = %v\nwant %v", idx.WeightMap, wantMap)
	}
	if _, err := os.Stat(filepath.Join(dir, SingleFileName)); err == nil {
		t.Error("model.safetensors written next to shards")
	}

	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Files) != len(wantShards) {
		t.Fatalf("%d files, want %d", len(s.Files), len(wantShards))
	}
	for i, f := range s.Files {
		if filepath.Base(f.Path) != wantShards[i] {
			t.Errorf("file %d is %s, want %s", i, f.Path, wantShards[i])
		}
		var size int64
		for _, tt := range f.Tensors {
			size += int64(len(tt.Data))
		}
		if size > 200 && len(f.Tensors) > 1 {
			t.Errorf("%s holds %d bytes, over the 200 limit", f.Path, size)
		}
		if f.Metadata["format"] != "pt" {
			t.Errorf("%s metadata %v, want format pt", f.Path, f.Metadata)
		}
	}
	checkSet(t, s, tensors)
}

func TestWriteShardedSingleFile(t *testing.T) {
	for _, max := range []int64{0, 784, 1 << 30} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			dir := t.TempDir()
			tensors := layers()
			// A stale index from an earlier sharded save must not win.
			if err := WriteSharded(dir, tensors[:3], 10); err != nil {
				t.Fatal(err)
			}
			if err := WriteSharded(dir, tensors, max); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, IndexFileName)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stale index left behind: %v", err)
			}
			s, err := OpenDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if len(s.Files) != 1 || filepath.Base(s.Files[0].Path) != SingleFileName {
				t.Fatalf("files %v, want one model.safetensors", s.Files)
			}
			checkSet(t, s, tensors)
		})
	}
}

func TestWriteShardedRemovesStaleSingleFile(t *testing.T) {
	dir := t.TempDir()
	if err := WriteSharded(dir, layers()[:2], 0); err != nil {
		t.Fatal(err)
	}
	if err := WriteSharded(dir, layers(), 300); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, SingleFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale model.safetensors left behind: %v", err)
	}
}

func TestOpenDirErrors(t *testing.T) {
	writeIndex := func(t *testing.T, dir string, weightMap map[string]string) {
		raw, _ := json.Marshal(map[string]any{"metadata": map[string]int{"total_size": 8}, "weight_map": weightMap})
		if err := os.WriteFile(filepath.Join(dir, IndexFileName), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	one := func(name string) []Tensor {
		return []Tensor{{Name: name, DType: F32, Shape: []int64{1}, Data: f32s(1)}}
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  []string // phrases the error must contain
	}{
		{"empty directory", func(t *testing.T, dir string) {}, []string{"neither model.safetensors nor model.safetensors.index.json"}},
		{"missing shard", func(t *testing.T, dir string) {
			WriteFile(filepath.Join(dir, "a.safetensors"), one("x"), nil)
			writeIndex(t, dir, map[string]string{"x": "a.safetensors", "y": "b.safetensors"})
		}, []string{IndexFileName, `shard "b.safetensors" is missing`}},
		{"tensor missing from its shard", func(t *testing.T, dir string) {
			WriteFile(filepath.Join(dir, "a.safetensors"), one("x"), nil)
			writeIndex(t, dir, map[string]string{"x": "a.safetensors", "ghost": "a.safetensors"})
		}, []string{"a.safetensors", `tensor "ghost"`, "the shard does not hold it"}},
		{"tensor in the wrong shard", func(t *testing.T, dir string) {
			WriteFile(filepath.Join(dir, "a.safetensors"), one("x"), nil)
			WriteFile(filepath.Join(dir, "b.safetensors"), one("y"), nil)
			writeIndex(t, dir, map[string]string{"x": "b.safetensors", "y": "a.safetensors"})
		}, []string{`tensor "x"`, "the shard does not hold it"}},
		{"tensor in two shards", func(t *testing.T, dir string) {
			WriteFile(filepath.Join(dir, "a.safetensors"), one("x"), nil)
			WriteFile(filepath.Join(dir, "b.safetensors"), append(one("x")[:0:0], one("x")[0], one("y")[0]), nil)
			writeIndex(t, dir, map[string]string{"x": "a.safetensors", "y": "b.safetensors"})
		}, []string{`tensor "x"`, "present in two shards, a.safetensors and b.safetensors"}},
		{"shard outside the directory", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"x": "../a.safetensors"})
		}, []string{`tensor "x"`, `shard "../a.safetensors" is not a .safetensors file inside the directory`}},
		{"index not JSON", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, IndexFileName), []byte("{"), 0o644)
		}, []string{IndexFileName, "not a valid index"}},
		{"index without weight_map", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, IndexFileName), []byte(`{"metadata":{}}`), 0o644)
		}, []string{`"weight_map" is missing or empty`}},
		{"corrupt shard", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "a.safetensors"), []byte("garbage!garbage!"), 0o644)
			writeIndex(t, dir, map[string]string{"x": "a.safetensors"})
		}, []string{"a.safetensors", "exceeds the limit"}},
		{"corrupt single file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, SingleFileName), []byte{1}, 0o644)
		}, []string{SingleFileName, "truncated"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			s, err := OpenDir(dir)
			if err == nil {
				s.Close()
				t.Fatal("OpenDir succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
