#!/usr/bin/env python3
"""Generate sacrebleu_random.json: random segments scored by sacreBLEU itself.

The shared reference cases (../shared/testdata/metrics) come from sacreBLEU's
own tests and have no `zh` tokenizer vectors and little Unicode. This script
adds seeded random corpora (English, Chinese, digits, punctuation, XML
entities, Unicode symbols and spaces) scored by sacreBLEU 2.6.0 for BLEU
(all tokenizers and smoothing methods), chrF/chrF++ and TER (all options).

Run once, with sacreBLEU importable (e.g. PYTHONPATH=path/to/sacrebleu):

    python3 make_sacrebleu.py > sacrebleu_random.json

The output uses the format of ../shared/testdata/metrics/*.json.
"""
import json
import random

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF, TER

WORDS = (
    "the a cat dog sat on mat it was not unexpected . , ! ? ; : ' \" ( ) - / & "
    "3.14 1,000 1990-2000 2024. U.S. don't it's John's e-mail x=y 50% $5 #1 @home "
    "&amp; &quot; &lt;b&gt; <skipped> € — “quoted” ’ ½ ² ° ± Σ ΣΑΣ İstanbul Straße "
    "我 爱 北京 天安门 。 ， 你好 世界 的 是 一个 测试 「引用」 （括号） ２０２４ ＡＢＣ "
    "東京 カタカナ ひらがな 한국어 … · … ✓ ☃ 😀 naïve café résumé"
).split()
SPACES = [" ", " ", " ", " ", "  ", "\t", "\u3000", "\u00a0", "\u2009"]


def sentence(rng, n):
    out = []
    for i in range(n):
        if i:
            out.append(rng.choice(SPACES))
        w = rng.choice(WORDS)
        if rng.random() < 0.1:
            w = w.upper()
        out.append(w)
    s = "".join(out)
    if rng.random() < 0.3:
        s += rng.choice([".", " .", "!", "?", "。", " ", "\n"])
    if rng.random() < 0.05:
        s = s.replace(" ", "-\n", 1)
    return s


def corpus(rng, nseg, nrefs):
    hyps, refs = [], []
    for _ in range(nseg):
        base = [rng.choice(WORDS) for _ in range(rng.randint(0, 14))]
        hyp = sentence(rng, rng.randint(0, 16)) if rng.random() < 0.3 else " ".join(
            w if rng.random() < 0.75 else rng.choice(WORDS) for w in base)
        seg_refs = []
        for _ in range(nrefs):
            if rng.random() < 0.25:
                seg_refs.append(sentence(rng, rng.randint(1, 16)))
            else:
                seg_refs.append(" ".join(w if rng.random() < 0.8 else rng.choice(WORDS) for w in base))
        hyps.append(hyp)
        refs.append(seg_refs)
    return hyps, refs


def streams(refs):
    return [list(x) for x in zip(*refs)]


# TercomTokenizer.__call__ is an lru_cache keyed by the instance; an instance
# freed and another allocated at the same address would hit stale entries made
# with other options. Keeping every metric alive avoids that.
KEEP = []


def main():
    rng = random.Random(20240608)
    cases = []
    n = 0

    def add(metric, settings, hyps, refs, expected, tol, notes):
        nonlocal n
        cases.append({
            "metric": metric, "settings": settings, "hypotheses": hyps, "references": refs,
            "expected": expected, "tolerance": tol,
            "source": "sacrebleu " + sacrebleu.__version__ + " run by make_sacrebleu.py",
            "notes": notes, "id": f"{metric}-rand-{n:03d}",
        })
        n += 1

    for tok in ["13a", "intl", "zh", "char", "none"]:
        for smooth, val in [("exp", None), ("floor", None), ("floor", 0.3), ("add-k", None), ("add-k", 2), ("none", None)]:
            for level in ["corpus", "sentence"]:
                lc = rng.random() < 0.3
                eff = level == "sentence" or rng.random() < 0.3
                order = rng.choice([4, 4, 2, 6])
                nrefs = rng.choice([1, 1, 2, 3])
                hyps, refs = corpus(rng, 1 if level == "sentence" else rng.randint(1, 12), nrefs)
                b = BLEU(tokenize=tok, smooth_method=smooth, smooth_value=val, lowercase=lc,
                         effective_order=eff, max_ngram_order=order)
                if level == "sentence":
                    s = b.sentence_score(hyps[0], refs[0])
                else:
                    s = b.corpus_score(hyps, streams(refs))
                settings = {"implementation": "sacrebleu", "level": level, "tokenize": tok,
                            "smooth_method": smooth, "smooth_value": val, "lowercase": lc,
                            "force": False, "effective_order": eff, "max_ngram_order": order}
                add("bleu", settings, hyps, refs,
                    {"score": s.score, "counts": [float(x) for x in s.counts], "totals": [float(x) for x in s.totals],
                     "sys_len": s.sys_len, "ref_len": s.ref_len, "signature": str(b.get_signature())},
                    1e-9, "BLEU(...)." + level + "_score")

    for nc, nw, beta, ws, eps, lc in [(6, 0, 2, False, False, False), (6, 2, 2, False, False, False),
                                       (6, 2, 2, True, True, True), (4, 1, 1, False, True, False),
                                       (6, 0, 3, True, False, True), (5, 2, 2, False, False, True)]:
        for level in ["corpus", "sentence"]:
            hyps, refs = corpus(rng, 1 if level == "sentence" else rng.randint(1, 12), rng.choice([1, 2]))
            c = CHRF(char_order=nc, word_order=nw, beta=beta, whitespace=ws, eps_smoothing=eps, lowercase=lc)
            s = c.sentence_score(hyps[0], refs[0]) if level == "sentence" else c.corpus_score(hyps, streams(refs))
            settings = {"implementation": "sacrebleu", "level": level, "char_order": nc, "word_order": nw,
                        "beta": beta, "whitespace": ws, "eps_smoothing": eps, "lowercase": lc}
            add("chrf", settings, hyps, refs, {"score": s.score, "signature": str(c.get_signature())},
                1e-9, "CHRF(...)." + level + "_score")

    for norm in [False, True]:
        for punct in [False, True]:
            for asian in [False, True]:
                for cs in [False, True]:
                    hyps, refs = corpus(rng, rng.randint(1, 10), rng.choice([1, 2]))
                    t = TER(normalized=norm, no_punct=punct, asian_support=asian, case_sensitive=cs)
                    KEEP.append(t)
                    s = t.corpus_score(hyps, streams(refs))
                    settings = {"implementation": "sacrebleu", "normalized": norm, "no_punct": punct,
                                "asian_support": asian, "case_sensitive": cs}
                    add("ter", settings, hyps, refs,
                        {"score": s.score, "num_edits": s.num_edits, "ref_length": s.ref_length,
                         "signature": str(t.get_signature())}, 1e-9, "TER(...).corpus_score")

    # Long segments with repeated words exercise TER's shift search and beam.
    for _ in range(6):
        base = [rng.choice(WORDS[:30]) for _ in range(rng.randint(20, 70))]
        hyp = list(base)
        for _ in range(rng.randint(1, 6)):
            i, j = sorted(rng.sample(range(len(hyp)), 2))
            k = rng.randint(i, len(hyp))
            block = hyp[i:j]
            del hyp[i:j]
            hyp[k - len(block) if k > i else k:k] = block
        if rng.random() < 0.5:
            hyp = hyp[: len(hyp) // 2] if rng.random() < 0.5 else hyp + hyp[:10]
        hyps, refs = [" ".join(hyp)], [[" ".join(base)]]
        t = TER()
        KEEP.append(t)
        s = t.corpus_score(hyps, streams(refs))
        add("ter", {"implementation": "sacrebleu", "normalized": False, "no_punct": False,
                    "asian_support": False, "case_sensitive": False}, hyps, refs,
            {"score": s.score, "num_edits": s.num_edits, "ref_length": s.ref_length,
             "signature": str(t.get_signature())}, 1e-9, "TER().corpus_score, long shifted segment")

    print(json.dumps(cases, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
