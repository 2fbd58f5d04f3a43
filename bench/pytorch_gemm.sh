#!/usr/bin/env bash
# Where PyTorch's LoRA step spends its time, and how fast its matrix products
# run against ours: the bound on any speed-up over PyTorch with the same
# arithmetic.
#
#   bench/pytorch_gemm.sh PATH/TO/llama_lora_ref.py
#
# 1. PyTorch's step (the reference script's bench: batch 4 × 256, rank 8 on
#    q,k,v,o, f32, one thread) under torch's profiler: step time and the time
#    in aten::mm (OpenBLAS sgemm: the linear layers) and aten::bmm
#    (attention), medians of STEPS steps.
# 2. The step's product shapes (T 1024; dim 768, hidden 2048, vocabulary
#    32000) in GFLOP/s: torch.mm (OpenBLAS) and tensor.MatMulPanels, run
#    alternately, medians of ROUNDS.
#
# Environment: SHAPE (110M or 15M, default 110M), STEPS (3), ROUNDS (3),
# PYTHON (/usr/bin/python3), BLAS_DIR (Debian's OpenBLAS).
set -euo pipefail
if [ $# -ne 1 ]; then
	sed -n '2,17p' "$0" >&2
	exit 2
fi
ref=$(realpath "$1")
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3} STEPS=${STEPS:-3} ROUNDS=${ROUNDS:-3} SHAPE=${SHAPE:-110M}
BLAS_DIR=${BLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-pthread}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
py() { LD_LIBRARY_PATH=$BLAS_DIR "$PYTHON" - "$@"; }

echo "PyTorch step ($SHAPE, 1 thread), medians of $STEPS:"
py "$ref" "$SHAPE" "$STEPS" <<'EOF'
import importlib.util, statistics, sys, time, torch
spec = importlib.util.spec_from_file_location("ref", sys.argv[1])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
torch.set_num_threads(1)
name = sys.argv[2] if sys.argv[2] != "15M" else "stories15M-size"
cfg = ref.BENCH_MODELS[name]
model = ref.Llama(cfg, ref.random_weights(cfg, 0))
lora = ref.LoRA(cfg, ["wq", "wk", "wv", "wo"], 8, 16.0, "peft", 0)
params = lora.parameters()
toks = torch.randint(0, cfg.vocab_size, (4, 256), generator=torch.Generator().manual_seed(1))
opt = ref.AdamWRef(params)

def step():
    for p in params:
        p.grad = None
    s, n = ref.sft_loss_sum(model.forward(toks, lora), toks.clone())
    (s / n).backward()
    ref.clip_grad_norm(params, 1.0)
    opt.step(1e-4)

step()
walls, mms, bmms = [], [], []
for _ in range(int(sys.argv[3])):
    with torch.autograd.profiler.profile() as prof:
        t0 = time.perf_counter()
        step()
        walls.append(time.perf_counter() - t0)
    ev = {e.key: e.self_cpu_time_total / 1e6 for e in prof.key_averages()}
    mms.append(ev.get("aten::mm", 0) + ev.get("aten::addmm", 0))
    bmms.append(ev.get("aten::bmm", 0))
w, m, b = statistics.median(walls), statistics.median(mms), statistics.median(bmms)
print(f"  step {w:.2f} s (profiled), aten::mm {m:.2f} s ({100*m/w:.0f}%), aten::bmm {b:.2f} s ({100*b/w:.0f}%), the rest {w-m-b:.2f} s")
print(f"  a step at 1.5x PyTorch takes {w/1.5:.2f} s: {w/1.5/m:.2f} of PyTorch's time in aten::mm alone")
EOF

shapes="1024,768,768 1024,2048,768 1024,768,2048 1024,32000,768 1024,768,32000"
bin=$(mktemp -d)/tensor.test
go test -c -o "$bin" ./internal/tensor
declare -A ob fw
for ((r = 0; r < ROUNDS; r++)); do
	while read -r key g; do ob[$key]+="$g "; done < <(py $shapes <<'EOF'
import statistics, sys, time, torch
torch.set_num_threads(1)
for s in sys.argv[1:]:
    T, R, K = map(int, s.split(","))
    x, w = torch.randn(T, K), torch.randn(R, K)
    x @ w.t()
    ts = []
    for _ in range(5):
        t0 = time.perf_counter()
        x @ w.t()
        ts.append(time.perf_counter() - t0)
    print(f"T{T}_R{R}_K{K} {2*T*R*K/statistics.median(ts)/1e9:.1f}")
EOF
)
	while read -r key g; do fw[$key]+="$g "; done < <("$bin" -test.run '^$' -test.bench 'MatMulPanels' |
		awk '/GFLOP/ {n = split($1, a, "/"); sub(/-[0-9]+$/, "", a[n]); print a[n], $(NF-1)}')
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
printf '\n| product [T, rows, K] | OpenBLAS (torch.mm) GFLOP/s | flywheel (MatMulPanels) GFLOP/s |\n| --- | ---: | ---: |\n'
for s in $shapes; do
	IFS=, read -r T R K <<<"$s"
	key=T${T}_R${R}_K${K}
	printf '| %s | %s | %s |\n' "$T, $R, $K" "$(echo "${ob[$key]}" | median)" "$(echo "${fw[$key]:-}" | median)"
done
