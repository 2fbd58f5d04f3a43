#!/usr/bin/env bash
# Runs llama.cpp's llama-bench and `flywheel bench` alternately on the same
# GGUF files and prints tokens/s and the ratio flywheel / llama.cpp.
#
#   bench/llamacpp.sh LLAMA_BENCH_PATH MODEL.gguf...
#
# Environment: THREADS (default "1 2"), ROUNDS (alternations, default 3),
# P (prompt tokens, 128), N (generated tokens, 64), FLYWHEEL (binary; built
# from this checkout when unset). It builds nothing of llama.cpp.
# Make the models with flywheel itself, e.g.:
#   flywheel random --preset 15M --vocab-from ../shared/testdata/tokenizer/ggml-vocab-llama-spm.gguf --out 15M-f32.gguf
#   flywheel quantize --in 15M-f32.gguf --out 15M-q4_0.gguf --type q4_0
set -euo pipefail
if [ $# -lt 2 ]; then
	sed -n '2,13p' "$0" >&2
	exit 2
fi
bench=$1
shift
cd "$(dirname "$0")/.."
if [ -z "${FLYWHEEL:-}" ]; then
	FLYWHEEL=$(mktemp -d)/flywheel
	go build -o "$FLYWHEEL" ./cmd/flywheel
fi
P=${P:-128} N=${N:-64} ROUNDS=${ROUNDS:-3}

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

printf '| model | threads | llama.cpp pp%s | flywheel pp%s | ratio | llama.cpp tg%s | flywheel tg%s | ratio |\n' "$P" "$P" "$N" "$N"
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for model in "$@"; do
	for t in ${THREADS:-1 2}; do
		lpp=() ltg=() fpp=() ftg=()
		for ((r = 0; r < ROUNDS; r++)); do
			# llama-bench: -o csv gives avg_ts per test (pp then tg)
			out=$("$bench" -m "$model" -p "$P" -n "$N" -t "$t" -r 3 -o csv 2>/dev/null)
			lpp+=("$(echo "$out" | awk -F, -v p="$P" 'NR>1 && $0 ~ "\""p"\",\"0\"" {gsub(/"/,"",$(NF-1)); print $(NF-1)}' | head -1)")
			ltg+=("$(echo "$out" | awk -F, -v n="$N" 'NR>1 && $0 ~ "\"0\",\""n"\"" {gsub(/"/,"",$(NF-1)); print $(NF-1)}' | head -1)")
			js=$("$FLYWHEEL" bench --model "$model" -p "$P" -n "$N" -t "$t" --repeat 3 --json)
			fpp+=("$(echo "$js" | sed 's/.*"prompt_tokens_per_s":\([0-9.e+]*\).*/\1/')")
			ftg+=("$(echo "$js" | sed 's/.*"gen_tokens_per_s":\([0-9.e+]*\).*/\1/')")
		done
		a=$(printf '%s\n' "${lpp[@]}" | median) b=$(printf '%s\n' "${fpp[@]}" | median)
		c=$(printf '%s\n' "${ltg[@]}" | median) d=$(printf '%s\n' "${ftg[@]}" | median)
		awk -v m="$(basename "$model")" -v t="$t" -v a="$a" -v b="$b" -v c="$c" -v d="$d" \
			'BEGIN {printf "| %s | %d | %.0f | %.0f | %.2f | %.1f | %.1f | %.2f |\n", m, t, a, b, b/a, c, d, d/c}'
	done
done
