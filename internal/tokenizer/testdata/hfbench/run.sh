#!/bin/bash
# Measures BenchmarkEncodeMixed's text and vocabularies side by side with
# Hugging Face tokenizers (Rust, npm package "tokenizers", whose native
# binaries ship inside the package), single-threaded, in alternating
# rounds, and prints a table of medians. Needs Go, node and npm, and the
# shared test data. Work files go to $HFBENCH_WORK (default /tmp/hfbench).
#
#   internal/tokenizer/testdata/hfbench/run.sh [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkg=$(cd "$here/../.." && pwd)
work=${HFBENCH_WORK:-/tmp/hfbench}
rounds=${1:-5}
mkdir -p "$work"
if [ ! -d "$work/node_modules/tokenizers" ]; then
  (cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund tokenizers@0.23.2 >/dev/null)
fi
printf '{"Replace":{"%s/hfbench_test.go":"%s/hfbench_test.go"}}\n' "$pkg" "$here" >"$work/overlay.json"
cd "$pkg"
go test -overlay "$work/overlay.json" -c -o "$work/ours.test" .
HFBENCH_DIR="$work" "$work/ours.test" -test.run '^TestExportHF$'
export NODE_PATH="$work/node_modules" RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
node "$here/hf.js" "$work" 1 check >/dev/null
results="$work/results.txt"
: >"$results"
for _ in $(seq "$rounds"); do
  "$work/ours.test" -test.run '^$' -test.bench '^BenchmarkEncodeCPU$' -test.benchtime 3x |
    awk '/^BenchmarkEncodeCPU\// {
      split($1, p, "/"); sub(/-[0-9]+$/, "", p[2])
      for (i = 1; i <= NF; i++) { if ($i == "MB/s") w = $(i-1); if ($i == "cpuMB/s") c = $(i-1) }
      print "ours", p[2], w, c }' >>"$results"
  node "$here/hf.js" "$work" 3 >>"$results"
done
node "$here/hf.js" summary "$results"
