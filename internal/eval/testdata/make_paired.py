#!/usr/bin/env python3
"""Generate sacrebleu_paired.json: sacreBLEU's paired significance tests.

Three systems are made from 300 random reference segments by corrupting
words at different rates; sacreBLEU 2.6.0 compares each pair with paired
bootstrap (--paired-bs, 1000 resamples) and approximate randomization
(--paired-ar, 10000 trials, 1000-resample confidence), seed 12345, for BLEU
and chrF. Our generator differs from NumPy's, so the Go test compares
p-values and intervals within a statistical tolerance.

    PYTHONPATH=path/to/sacrebleu python3 make_paired.py > sacrebleu_paired.json
"""
import json
import random

from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

VOCAB = ("the a cat dog man woman saw ate walked to from in on house garden tree "
         "red green big small quickly slowly and but with without today yesterday").split()


def corrupt(rng, words, rate):
    out = [w if rng.random() > rate else rng.choice(VOCAB) for w in words]
    if rng.random() < rate:
        out = out[: max(1, len(out) - 2)]
    return " ".join(out)


def main():
    rng = random.Random(7)
    ref_words = [[rng.choice(VOCAB) for _ in range(rng.randint(5, 20))] for _ in range(300)]
    refs = [" ".join(w) for w in ref_words]
    systems = {
        "baseline": [corrupt(rng, w, 0.40) for w in ref_words],
        "close": [corrupt(rng, w, 0.395) for w in ref_words],
        "better": [corrupt(rng, w, 0.25) for w in ref_words],
    }
    out = {"references": refs, "systems": systems, "tests": []}
    for test, n, conf in [("bs", 1000, -1), ("ar", 10000, 1000)]:
        for metric in ["BLEU", "chrF2"]:
            m = BLEU() if metric == "BLEU" else CHRF()
            named = [(k, v) for k, v in systems.items()]
            pt = PairedTest(named, {metric: m}, [refs], test_type=test, n_samples=n, n_ar_confidence=conf)
            sigs, scores = pt()
            name = list(scores.keys())[1]
            for i, sysname in enumerate(scores["System"]):
                r = scores[name][i]
                out["tests"].append({"test": test, "metric": metric, "system": sysname, "samples": n,
                                     "score": r.score, "p_value": r.p_value, "mean": r.mean, "ci": r.ci})
    json.dump(out, __import__("sys").stdout, indent=1)


if __name__ == "__main__":
    main()
