package llama

import (
	"context"
	"fmt"
	"strings"

	"flywheel/internal/gguf"
	"flywheel/internal/tensor"
)

// QuantizeReport says what QuantizeGGUF did to each kind of tensor.
type QuantizeReport struct {
	Quantized int            // tensors converted to the target type
	Kept      map[string]int // reason → count of tensors left as they were or at a fallback type
	InBytes   int64
	OutBytes  int64
}

// fileTypes are llama.cpp's general.file_type values.
var fileTypes = map[tensor.DType]uint32{tensor.F32: 0, tensor.F16: 1, tensor.Q4_0: 2, tensor.Q8_0: 7, tensor.BF16: 32,
	tensor.Q4_K: 15, tensor.Q5_K: 17, tensor.Q6_K: 18} // the k-quants as llama.cpp's Q4_K_M, Q5_K_M and Q6_K mixes (quantMix)

// QuantizeGGUF writes the GGUF model in as out with every 2-D weight (the
// embedding and output head included, as llama.cpp's --pure does) stored as
// typ. Norm weights and biases stay F32. A matrix whose rows are not a
// multiple of typ's block (e.g. an FFN width of 172 with 32-element blocks)
// is stored as F16 instead, and the report says so. The k-quants (Q4_K,
// Q5_K, Q6_K) follow llama.cpp's Q4_K_M, Q5_K_M and Q6_K mixes instead
// (quantMix): some matrices are kept at Q6_K, and the report says which.
// Metadata is copied, with general.file_type set. progress, when not nil, is
// called after each tensor.
func QuantizeGGUF(ctx context.Context, in, out string, typ tensor.DType, progress func(done, total int)) (*QuantizeReport, error) {
	ft, ok := fileTypes[typ]
	if !ok {
		return nil, fmt.Errorf("quantize: type %v is not a target (want f32, f16, bf16, q8_0, q4_0, q4_k, q5_k or q6_k)", typ)
	}
	f, err := gguf.Open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// the file must be a model this engine loads
	m, err := modelFromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("quantize %s: %w", in, err)
	}
	_, hasOutput := f.Tensor("output.weight")
	mix := quantMix{typ: typ, layers: m.Config.Layers, hasOutput: hasOutput}
	rep := &QuantizeReport{Kept: map[string]int{}}
	var kv []gguf.KV
	for _, e := range f.KV {
		if e.Key != "general.file_type" && e.Key != "general.quantization_version" {
			kv = append(kv, e)
		}
	}
	kv = append(kv, gguf.KV{Key: "general.file_type", Value: gguf.Uint32(ft)},
		gguf.KV{Key: "general.quantization_version", Value: gguf.Uint32(2)})

	var ts []gguf.WriterTensor
	for i := range f.Tensors {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ti := &f.Tensors[i]
		data := f.TensorData(ti)
		rep.InBytes += int64(len(data))
		wt := gguf.WriterTensor{Name: ti.Name, Dims: ti.Dims, Type: ti.Type, Data: data}
		src := tensor.DType(ti.Type)
		switch {
		case len(ti.Dims) != 2 || !strings.HasSuffix(ti.Name, ".weight"):
			rep.Kept["not a weight matrix (kept)"]++
		case !src.Supported():
			return nil, fmt.Errorf("quantize %s: tensor %s: type %v cannot be read here", in, ti.Name, ti.Type)
		default:
			target, why := mix.typeOf(ti.Name, int(ti.Dims[0]))
			if why != "" {
				rep.Kept[why]++
			} else {
				rep.Quantized++
			}
			if target != src {
				n := int(ti.Dims[0] * ti.Dims[1])
				vals := make([]float32, n)
				tensor.Dequantize(vals, src, data, n)
				wt.Type, wt.Data = gguf.TensorType(target), tensor.Quantize(nil, target, vals)
			}
		}
		rep.OutBytes += int64(len(wt.Data))
		ts = append(ts, wt)
		if progress != nil {
			progress(i+1, len(f.Tensors))
		}
	}
	if err := gguf.WriteFile(out, kv, ts); err != nil {
		return nil, err
	}
	return rep, nil
}
