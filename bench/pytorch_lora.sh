#!/usr/bin/env bash
# Runs PyTorch's LoRA training step (the reference script behind
# BENCHMARKS.md) and flywheel's BenchmarkLoRAStep alternately on the same
# shapes — batch 4 × 256 tokens, rank 8 on q, k, v, o, f32 — and prints the
# median tokens/s of each, the ratio flywheel / PyTorch and both peak RSS.
#
#   bench/pytorch_lora.sh PATH/TO/llama_lora_ref.py
#
# Environment: SHAPES (default "15M 110M"), THREADS ("1 2"), ROUNDS
# (alternations, 3), STEPS (PyTorch's measured steps, 3, after one warm-up),
# PYTHON (a python3 with torch, /usr/bin/python3), BLAS_DIR (put on
# LD_LIBRARY_PATH for PyTorch, Debian's OpenBLAS by default).
set -euo pipefail
if [ $# -ne 1 ]; then
	sed -n '2,12p' "$0" >&2
	exit 2
fi
ref=$(realpath "$1")
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3} ROUNDS=${ROUNDS:-3} STEPS=${STEPS:-3}
BLAS_DIR=${BLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-pthread}
bin=$(mktemp -d)/train.test
go test -c -o "$bin" ./internal/train

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

printf '| shape | threads | PyTorch tok/s | flywheel tok/s | ratio | PyTorch peak RSS | flywheel peak RSS |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for shape in ${SHAPES:-15M 110M}; do
	refshape=$shape
	[ "$shape" = 15M ] && refshape=stories15M-size
	for t in ${THREADS:-1 2}; do
		pt=() pr=() ft=() fr=()
		for ((r = 0; r < ROUNDS; r++)); do
			js=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t LD_LIBRARY_PATH=$BLAS_DIR \
				"$PYTHON" "$ref" bench --model "$refshape" --mode lora --threads "$t" --warmup 1 --steps "$STEPS")
			pt+=("$(echo "$js" | sed 's/.*"tokens_per_s": \([0-9.e+]*\).*/\1/')")
			pr+=("$(echo "$js" | sed 's/.*"peak_rss_mib": \([0-9.e+]*\).*/\1/')")
			out=$("$bin" -test.run '^$' -test.bench "LoRAStep/$shape/F32/r8-qkvo/t$t\$" -test.benchtime 3x)
			ft+=("$(echo "$out" | awk '/LoRAStep/ {for (i = 2; i <= NF; i++) if ($i == "tok/s") print $(i-1)}')")
			fr+=("$(echo "$out" | awk '/LoRAStep/ {for (i = 2; i <= NF; i++) if ($i == "peak-RSS-MiB") print $(i-1)}')")
		done
		a=$(printf '%s\n' "${pt[@]}" | median) b=$(printf '%s\n' "${ft[@]}" | median)
		c=$(printf '%s\n' "${pr[@]}" | median) d=$(printf '%s\n' "${fr[@]}" | median)
		awk -v s="$shape" -v t="$t" -v a="$a" -v b="$b" -v c="$c" -v d="$d" \
			'BEGIN {printf "| %s | %d | %.1f | %.1f | %.2f | %.0f MiB | %.0f MiB |\n", s, t, a, b, b/a, c, d}'
	done
done
