package llama

import (
	"encoding/binary"
	"fmt"
	"os"

	"flywheel/internal/mmap"
	"flywheel/internal/tensor"
)

// llama2.c checkpoints. Version 0 (the legacy export, no magic) is a header of
// seven int32 — dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size
// (negative: the classifier is a separate tensor), seq_len — followed by f32
// arrays, each holding all layers:
//
//	token_embedding [vocab, dim], rms_att [L, dim], wq [L, dim, dim],
//	wk [L, kv_dim, dim], wv [L, kv_dim, dim], wo [L, dim, dim], rms_ffn [L, dim],
//	w1 [L, hidden, dim], w2 [L, dim, hidden], w3 [L, hidden, dim], rms_final [dim],
//	freq_cis_real [seq_len, head/2], freq_cis_imag [seq_len, head/2], (wcls [vocab, dim])
//
// Version 1 starts with the magic "ak42", int32 version 1, the seven
// parameters, a byte "shared classifier", padded to 256 bytes, then: rms_att,
// rms_ffn, rms_final, token_embedding, wq, wk, wv, wo, w1, w2, w3, (wcls).
const llama2cMagic = 0x616b3432

// LoadLlama2C maps a llama2.c .bin checkpoint. Its tokenizer lives in a
// separate file; see LoadTokenizer.
func LoadLlama2C(path string) (*Model, error) {
	f, err := mmap.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := parseLlama2C(f.Data)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("llama2.c checkpoint %s: %w", path, err)
	}
	m.closers = append(m.closers, f)
	m.File.Path = path
	m.File.Bytes = int64(len(f.Data))
	return m, nil
}

func parseLlama2C(data []byte) (*Model, error) {
	if len(data) < 28 {
		return nil, fmt.Errorf("file is %d bytes, shorter than the 28-byte header", len(data))
	}
	i32 := func(off int) int { return int(int32(binary.LittleEndian.Uint32(data[off:]))) }
	version, hdr, off := 0, 0, 28
	if binary.LittleEndian.Uint32(data) == llama2cMagic {
		if len(data) < 256 {
			return nil, fmt.Errorf("version 1 header truncated (%d bytes, want 256)", len(data))
		}
		version = i32(4)
		if version != 1 {
			return nil, fmt.Errorf("llama2.c format version %d is not supported (supported: 0 and 1 float32 exports); re-export with `export.py --version 1`", version)
		}
		hdr, off = 8, 256
	}
	dim, hidden, layers, heads, kvHeads, vocab, seqLen :=
		i32(hdr), i32(hdr+4), i32(hdr+8), i32(hdr+12), i32(hdr+16), i32(hdr+20), i32(hdr+24)
	shared := vocab > 0
	if version == 1 {
		shared = data[hdr+28] != 0
	}
	if vocab < 0 {
		vocab = -vocab
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"dim", dim}, {"hidden_dim", hidden}, {"n_layers", layers}, {"n_heads", heads},
		{"n_kv_heads", kvHeads}, {"vocab_size", vocab}, {"seq_len", seqLen}} {
		if p.v <= 0 || p.v > 1<<24 {
			return nil, fmt.Errorf("header field %s = %d is out of range; is this a llama2.c checkpoint?", p.name, p.v)
		}
	}
	if dim%heads != 0 || heads%kvHeads != 0 {
		return nil, fmt.Errorf("header: dim %d, n_heads %d, n_kv_heads %d do not divide", dim, heads, kvHeads)
	}
	hd := dim / heads
	kvDim := kvHeads * hd
	m := &Model{Config: Config{
		Arch: "llama", Dim: dim, Hidden: hidden, Layers: layers, Heads: heads, KVHeads: kvHeads,
		HeadDim: hd, Vocab: vocab, ContextLen: seqLen, NormEps: 1e-5, RopeBase: 10000, RopeScale: 1,
		RopeDims: hd, RopeStyle: tensor.RopeInterleaved, TiedOutput: shared,
	}}
	m.File.Format = fmt.Sprintf("llama2.c v%d", version)

	// take hands out consecutive f32 arrays, checking the file is long enough
	var err error
	take := func(name string, n int) []byte {
		if err != nil {
			return nil
		}
		if n < 0 || off+4*n > len(data) || off+4*n < off {
			err = fmt.Errorf("tensor %s: needs bytes %d..%d but the file has %d (truncated?)", name, off, off+4*n, len(data))
			return nil
		}
		b := data[off : off+4*n]
		off += 4 * n
		return b
	}
	f32 := func(b []byte) []float32 { return tensor.F32s(b) }
	mat := func(b []byte, rows, cols int) tensor.Matrix {
		return tensor.Matrix{Type: tensor.F32, Rows: rows, Cols: cols, Data: b}
	}
	L := layers
	var embed, rmsAtt, wq, wk, wv, wo, rmsFFN, w1, w2, w3, rmsFinal []byte
	if version == 0 {
		embed = take("token_embedding", vocab*dim)
		rmsAtt = take("rms_att_weight", L*dim)
		wq, wk, wv, wo = take("wq", L*dim*dim), take("wk", L*kvDim*dim), take("wv", L*kvDim*dim), take("wo", L*dim*dim)
		rmsFFN = take("rms_ffn_weight", L*dim)
		w1, w2, w3 = take("w1", L*hidden*dim), take("w2", L*dim*hidden), take("w3", L*hidden*dim)
		rmsFinal = take("rms_final_weight", dim)
		take("freq_cis_real", seqLen*hd/2)
		take("freq_cis_imag", seqLen*hd/2)
	} else {
		rmsAtt, rmsFFN, rmsFinal = take("rms_att_weight", L*dim), take("rms_ffn_weight", L*dim), take("rms_final_weight", dim)
		embed = take("token_embedding", vocab*dim)
		wq, wk, wv, wo = take("wq", L*dim*dim), take("wk", L*kvDim*dim), take("wv", L*kvDim*dim), take("wo", L*dim*dim)
		w1, w2, w3 = take("w1", L*hidden*dim), take("w2", L*dim*hidden), take("w3", L*hidden*dim)
	}
	m.Embed = mat(embed, vocab, dim)
	m.Output = m.Embed
	if !shared {
		m.Output = mat(take("wcls", vocab*dim), vocab, dim)
	}
	if err != nil {
		return nil, err
	}
	if off != len(data) {
		return nil, fmt.Errorf("%d bytes left after the last tensor: the header does not describe this file", len(data)-off)
	}
	m.OutNorm = f32(rmsFinal)
	for l := 0; l < L; l++ {
		sl := func(b []byte, n int) []byte { return b[l*4*n : (l+1)*4*n] }
		m.Layers = append(m.Layers, Layer{
			AttnNorm: f32(sl(rmsAtt, dim)),
			Wq:       mat(sl(wq, dim*dim), dim, dim),
			Wk:       mat(sl(wk, kvDim*dim), kvDim, dim),
			Wv:       mat(sl(wv, kvDim*dim), kvDim, dim),
			Wo:       mat(sl(wo, dim*dim), dim, dim),
			FFNNorm:  f32(sl(rmsFFN, dim)),
			WGate:    mat(sl(w1, hidden*dim), hidden, dim),
			WDown:    mat(sl(w2, dim*hidden), dim, hidden),
			WUp:      mat(sl(w3, hidden*dim), hidden, dim),
		})
	}
	m.File.Tensors = 9*L + 2
	if !shared {
		m.File.Tensors++
	}
	m.File.DTypes = map[string]int{"F32": m.File.Tensors}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// isLlama2C reports whether path looks like a llama2.c checkpoint rather than
// a GGUF file (which starts with its own magic).
func isLlama2C(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	if _, err := f.Read(magic[:]); err != nil {
		return false
	}
	return string(magic[:]) != "GGUF"
}
