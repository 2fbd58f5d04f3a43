#!/usr/bin/env python3
"""Time NLTK's corpus_bleu on the corpus of BenchmarkCorpusBLEU100k.

Rebuilds bench_test.go's corpus with the same 64-bit LCG (100,000 pairs of
10-30 words) and times nltk.translate.bleu_score.corpus_bleu on it, given
whitespace-split tokens (NLTK does no tokenization; our benchmark also runs
the 13a tokenizer). Debian python3-nltk:

    python3 bench_nltk.py [N]
"""
import sys
import time

from nltk.translate.bleu_score import corpus_bleu

MASK = (1 << 64) - 1


def corpus(n):
    state = 42

    def nxt():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK
        return state >> 33

    hyps, refs = [], []
    for _ in range(n):
        length = 10 + nxt() % 21
        ref, hyp = [], []
        for _ in range(length):
            w = "w%d" % (nxt() % 2000)
            ref.append(w)
            hyp.append(w)
            if nxt() % 10 < 3:
                hyp[-1] = "w%d" % (nxt() % 2000)
        refs.append([" ".join(ref) + "."])
        hyps.append(" ".join(hyp) + ".")
    return hyps, refs


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    hyps, refs = corpus(n)
    print("first pair:", repr(hyps[0]), "/", repr(refs[0][0]))
    t0 = time.perf_counter()
    h = [x.split() for x in hyps]
    r = [[y.split() for y in x] for x in refs]
    score = corpus_bleu(r, h)
    dt = time.perf_counter() - t0
    print(f"NLTK corpus_bleu on {n} pairs: {dt:.3f} s, BLEU {100 * score:.4f}")


if __name__ == "__main__":
    main()
