//go:build ignore

// gen_kquant makes the k-quant reference files of this folder: it writes
// crafted rows (zeros, constants, one-signed rows, outliers, tiny and huge
// magnitudes, ties, random rows) into blk.0.ffn_up.weight of a small F32
// llama GGUF, has llama.cpp's llama-quantize --pure store the model as Q4_K,
// Q5_K and Q6_K, and keeps those rows' source floats and blocks:
//
//	go run gen_kquant.go -model small-f32.gguf -quantize /path/to/llama-quantize
//
// (see README.md for the model and the llama.cpp commit).
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"

	"flywheel/internal/gguf"
)

const (
	rows   = 16
	cols   = 256
	tensor = "blk.0.ffn_up.weight"
)

func main() {
	model := flag.String("model", "", "F32 llama GGUF whose "+tensor+" rows are 256 wide")
	quantize := flag.String("quantize", "llama-quantize", "llama.cpp's llama-quantize")
	outDir := flag.String("out", ".", "directory to write the files to")
	flag.Parse()
	src := craft()
	dir, err := os.MkdirTemp("", "kquant")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.gguf")
	if err := withRows(*model, in, src); err != nil {
		log.Fatal(err)
	}
	raw := make([]byte, 0, 4*len(src))
	for _, v := range src {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	if err := os.WriteFile(filepath.Join(*outDir, "kquant-src.f32"), raw, 0o644); err != nil {
		log.Fatal(err)
	}
	for _, typ := range []string{"Q4_K", "Q5_K", "Q6_K"} {
		out := filepath.Join(dir, typ+".gguf")
		cmd := exec.Command(*quantize, "--pure", in, out, typ)
		if b, err := cmd.CombinedOutput(); err != nil {
			log.Fatalf("%s: %v\n%s", cmd, err, b)
		}
		f, err := gguf.Open(out)
		if err != nil {
			log.Fatal(err)
		}
		ti, ok := f.Tensor(tensor)
		if !ok || ti.Type.String() != typ {
			log.Fatalf("%s: %s missing or not %s", out, tensor, typ)
		}
		data := f.TensorData(ti)
		n := rows * cols / ti.Type.BlockSize() * ti.Type.TypeSize()
		name := fmt.Sprintf("kquant-%s.bin", map[string]string{"Q4_K": "q4_k", "Q5_K": "q5_k", "Q6_K": "q6_k"}[typ])
		if err := os.WriteFile(filepath.Join(*outDir, name), data[:n], 0o644); err != nil {
			log.Fatal(err)
		}
		f.Close()
	}
}

// craft returns rows×cols values, one kind of row each.
func craft() []float32 {
	r := rand.New(rand.NewPCG(2026, 11))
	x := make([]float32, rows*cols)
	row := func(i int) []float32 { return x[i*cols : (i+1)*cols] }
	normal := func(v []float32, s float64) {
		for j := range v {
			v[j] = float32(r.NormFloat64() * s)
		}
	}
	// 0: all zero
	for j := range row(1) { // 1: constant
		row(1)[j] = 0.5
	}
	for j := range row(2) { // 2: positive only
		row(2)[j] = 0.1 + 2*r.Float32()
	}
	for j := range row(3) { // 3: negative only
		row(3)[j] = -0.1 - 2*r.Float32()
	}
	normal(row(4), 1) // 4: outliers
	for _, j := range []int{3, 77, 140, 255} {
		row(4)[j] *= 100
	}
	normal(row(5), 1e-6)        // 5: tiny: half-precision scales go subnormal
	normal(row(6), 1e-18)       // 6: below ggml's GROUP_MAX_EPS in most groups
	for j := 0; j < cols; j++ { // 7: each sub-block of 32 at its own magnitude
		row(7)[j] = float32(r.NormFloat64() * math.Pow(10, float64(j/32-4)))
	}
	for j := range row(8) { // 8: halves and integers: ties in rounding
		row(8)[j] = float32(r.IntN(33)-16) / 2
	}
	normal(row(9), 3000) // 9: large
	normal(row(10), 1)   // 10: one zero group of 16 and one constant group
	for j := 32; j < 48; j++ {
		row(10)[j] = 0
		row(10)[j+64] = -1.25
	}
	for i := 11; i < rows; i++ { // 11..15: Gaussian at several scales
		normal(row(i), math.Pow(10, float64(i-13)))
	}
	return x
}

// withRows copies the GGUF model to out with the first rows of tensor
// replaced by src.
func withRows(model, out string, src []float32) error {
	f, err := gguf.Open(model)
	if err != nil {
		return err
	}
	defer f.Close()
	var ts []gguf.WriterTensor
	found := false
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		data := append([]byte(nil), f.TensorData(ti)...)
		if ti.Name == tensor {
			if ti.Type != gguf.F32 || ti.Dims[0] != cols || ti.Dims[1] < rows {
				return fmt.Errorf("%s: %s is %v %v, want F32 [%d, ≥%d]", model, tensor, ti.Type, ti.Dims, cols, rows)
			}
			for j, v := range src {
				binary.LittleEndian.PutUint32(data[4*j:], math.Float32bits(v))
			}
			found = true
		}
		ts = append(ts, gguf.WriterTensor{Name: ti.Name, Dims: ti.Dims, Type: ti.Type, Data: data})
	}
	if !found {
		return fmt.Errorf("%s: no tensor %s", model, tensor)
	}
	return gguf.WriteFile(out, f.KV, ts)
}
