#!/usr/bin/env python3
"""Generate porter_nltk.json: NLTK's PorterStemmer on real English words.

Words are every distinct lowercase alphabetic token of the text files given
on the command line (we used ../shared/testdata/long/qmsum/docs.jsonl and
../shared/testdata/qa/xquad_en/docs.jsonl), plus the words of the Porter
paper's examples and NLTK's irregular forms. Run once, with NLTK installed
(Debian python3-nltk 3.8):

    python3 make_porter.py FILE... > porter_nltk.json
"""
import json
import re
import sys

import nltk
from nltk.stem.porter import PorterStemmer

EXTRA = """caresses ponies ties caress cats feed agreed plastered bled motoring sing
conflated troubled sized hopping tanned falling hissing fizzed failing filing happy
sky relational conditional rational valenci hesitanci digitizer conformabli radicalli
differentli vileli analogousli vietnamization predication operator feudalism
decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate
formative formalize electriciti electrical hopeful goodness revival allowance
inference airliner gyroscopic adjustable defensible irritant replacement adjustment
dependent adoption homologou communism activate angulariti homologous effective
bowdlerize probate rate cease controll roll skies dying lying tying news innings
inning outings outing cannings canning howe proceed exceed succeed dies spied tried
flies enjoy enjoyment spy fly try generously fully archaeology analogi logi ed ing
eed ies ied a at be by is it to ox axe""".split()


def main():
    words = set(EXTRA)
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            words.update(re.findall(r"[a-z]+", f.read().lower()))
    words = sorted(words)
    out = {"nltk_version": nltk.__version__, "words": words}
    for mode in ["NLTK_EXTENSIONS", "MARTIN_EXTENSIONS", "ORIGINAL_ALGORITHM"]:
        stemmer = PorterStemmer(mode)
        out[mode] = [stemmer.stem(w) for w in words]
    json.dump(out, sys.stdout, indent=0)
    print()


if __name__ == "__main__":
    main()
