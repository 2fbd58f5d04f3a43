#!/usr/bin/env bash
# Checks flywheel's adapters against llama.cpp: fine-tunes stories260K on a
# small derived data set (a story it does not tell by itself), then decodes
# greedily from the same prompt with
#   flywheel generate --lora DIR           (the PEFT adapter)
#   flywheel generate --lora adapter.gguf  (the GGUF LoRA)
#   llama-cli --lora adapter.gguf          (llama.cpp applying the GGUF LoRA)
#   llama-cli -m merged.gguf               (llama.cpp on `flywheel merge`'s output)
# and exits 1 unless all four texts are the same and differ from the base
# model's.
#
#   bench/llamacpp_lora.sh PATH/TO/llama-cli
#
# Environment: FLYWHEEL (binary; built from this checkout when unset), N
# (tokens to generate, 40). It builds nothing of llama.cpp.
set -euo pipefail
if [ $# -ne 1 ]; then
	sed -n '2,15p' "$0" >&2
	exit 2
fi
cli=$(realpath "$1")
cd "$(dirname "$0")/.."
model=$(realpath ../shared/testdata/models/stories260K/stories260K-f32.gguf)
work=$(mktemp -d)
if [ -z "${FLYWHEEL:-}" ]; then
	FLYWHEEL=$work/flywheel
	go build -o "$FLYWHEEL" ./cmd/flywheel
fi
N=${N:-40}
prompt="Once upon a time"
story="Once upon a time, there was a big red dog named Max. Max liked to run in the park with his ball."
{
	printf '['
	for i in $(seq 40); do
		[ "$i" -gt 1 ] && printf ','
		printf '{"instruction": "Tell a story.", "input": "", "output": "%s"}' "$story"
	done
	printf ']\n'
} >"$work/data.json"
"$FLYWHEEL" tune --model "$model" --data "$work/data.json" --out "$work/out" --max-steps 30 --lr 0.01 \
	--lora-targets all --lora-dropout 0 --val-split 0 >/dev/null 2>&1
"$FLYWHEEL" merge --model "$model" --lora "$work/out" --out "$work/merged.gguf" >/dev/null

# Pieces that are single bytes outside UTF-8 (byte-fallback tokens of this
# small vocabulary) print raw from llama-cli and as U+FFFD from flywheel:
# every non-ASCII byte is dropped before comparing.
ascii() { LC_ALL=C tr -d '\200-\377'; }
llama() { LD_LIBRARY_PATH=$(dirname "$cli") "$cli" "$@" -p "$prompt" -n "$N" --temp 0 -no-cnv --no-warmup 2>/dev/null | sed 's/^ //' | ascii; }
fw() { "$FLYWHEEL" generate --model "$model" "$@" --prompt "$prompt" --max-tokens "$N" --temperature 0 2>/dev/null | ascii; }
base=$(fw)
texts=("$(fw --lora "$work/out")" "$(fw --lora "$work/out/adapter.gguf")"
	"$(llama -m "$model" --lora "$work/out/adapter.gguf")" "$(llama -m "$work/merged.gguf")")
names=("flywheel --lora PEFT" "flywheel --lora GGUF" "llama-cli --lora GGUF" "llama-cli merged")
status=0
printf '%-22s %s\n' "base model" "$base"
for i in "${!texts[@]}"; do
	verdict=same
	if [ "${texts[$i]}" != "${texts[0]}" ]; then
		verdict=DIFFERENT status=1
	fi
	printf '%-22s %s  [%s]\n' "${names[$i]}" "${texts[$i]}" "$verdict"
done
if [ "${texts[0]}" = "$base" ]; then
	echo "the adapter changed nothing" >&2
	status=1
fi
rm -rf "$work"
exit $status
