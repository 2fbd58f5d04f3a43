#!/usr/bin/env python3
"""Reference for internal/bert: a tiny BERT with random weights, written as a
Hugging Face directory (config.json + model.safetensors), and the sentence
vectors a plain NumPy forward pass computes for a few token sequences.

This is an independent implementation of the BERT encoder (post-LayerNorm,
exact-erf GELU, absolute positions, token type 0), written from the paper and
transformers' modeling_bert.py semantics, in float64.

  /usr/bin/python3 make_reference.py   # needs Debian's python3-numpy; writes tiny/ and expected.json
"""
import json, math, os, struct
import numpy as np

CFG = dict(model_type="bert", vocab_size=40, hidden_size=24, num_hidden_layers=2, num_attention_heads=3,
           intermediate_size=48, max_position_embeddings=32, type_vocab_size=2, layer_norm_eps=1e-6,
           hidden_act="gelu", position_embedding_type="absolute")
INPUTS = [[2, 7, 11, 3], [2, 3], [2] + [(5 * i + 4) % 36 + 4 for i in range(20)] + [3]]

rng = np.random.default_rng(7)
H, I, V, P, T2 = CFG["hidden_size"], CFG["intermediate_size"], CFG["vocab_size"], CFG["max_position_embeddings"], CFG["type_vocab_size"]

def randn(*shape, scale=0.3):
    return (scale * rng.standard_normal(shape)).astype(np.float32)

W = {}
W["embeddings.word_embeddings.weight"] = randn(V, H, scale=1.0)
W["embeddings.position_embeddings.weight"] = randn(P, H, scale=0.5)
W["embeddings.token_type_embeddings.weight"] = randn(T2, H, scale=0.5)
W["embeddings.LayerNorm.weight"] = 1 + randn(H, scale=0.1)
W["embeddings.LayerNorm.bias"] = randn(H, scale=0.1)
for l in range(CFG["num_hidden_layers"]):
    p = f"encoder.layer.{l}."
    for n in ("query", "key", "value"):
        W[p + f"attention.self.{n}.weight"] = randn(H, H)
        W[p + f"attention.self.{n}.bias"] = randn(H, scale=0.1)
    W[p + "attention.output.dense.weight"] = randn(H, H)
    W[p + "attention.output.dense.bias"] = randn(H, scale=0.1)
    W[p + "attention.output.LayerNorm.weight"] = 1 + randn(H, scale=0.1)
    W[p + "attention.output.LayerNorm.bias"] = randn(H, scale=0.1)
    W[p + "intermediate.dense.weight"] = randn(I, H)
    W[p + "intermediate.dense.bias"] = randn(I, scale=0.1)
    W[p + "output.dense.weight"] = randn(H, I)
    W[p + "output.dense.bias"] = randn(H, scale=0.1)
    W[p + "output.LayerNorm.weight"] = 1 + randn(H, scale=0.1)
    W[p + "output.LayerNorm.bias"] = randn(H, scale=0.1)

def write_safetensors(path, tensors):
    header, off, blobs = {}, 0, []
    for name in sorted(tensors):
        b = tensors[name].astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        off += len(b); blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True); var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b

def gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))

def forward(ids):
    w = {k: v.astype(np.float64) for k, v in W.items()}
    eps, nh = CFG["layer_norm_eps"], CFG["num_attention_heads"]; d = H // nh
    T = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:T] + w["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    for l in range(CFG["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        lin = lambda z, n: z @ w[p + n + ".weight"].T + w[p + n + ".bias"]
        q, k, v = (lin(x, f"attention.self.{n}").reshape(T, nh, d).transpose(1, 0, 2) for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(T, H)
        x = layer_norm(x + lin(a, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(x + lin(h, "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    return x

unit = lambda v: v / np.linalg.norm(v)
os.makedirs("tiny", exist_ok=True)
write_safetensors("tiny/model.safetensors", W)
with open("tiny/config.json", "w") as f: json.dump(CFG, f, indent=1)
# a WordPiece vocabulary [PAD] [UNK] [CLS] [SEP] w4 … w39, so "w7 w11" is [2, 7, 11, 3]
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + [f"w{i}" for i in range(4, V)]
tok = {"version": "1.0", "truncation": None, "padding": None,
       "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True} for i, t in enumerate(vocab[:4])],
       "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
       "pre_tokenizer": {"type": "BertPreTokenizer"},
       "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
       "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
       "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}}}
with open("tiny/tokenizer.json", "w") as f: json.dump(tok, f)
out = {"inputs": INPUTS, "mean": [], "cls": [], "hidden0": forward(INPUTS[0]).round(7).tolist()}
for ids in INPUTS:
    x = forward(ids)
    out["mean"].append(unit(x.mean(0)).round(7).tolist())
    out["cls"].append(unit(x[0]).round(7).tolist())
with open("expected.json", "w") as f: json.dump(out, f)
print("wrote tiny/ and expected.json")
