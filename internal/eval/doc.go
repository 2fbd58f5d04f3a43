// Package eval turns system outputs and references into the scores people
// trust: BLEU, chrF/chrF++ and TER computed exactly as sacreBLEU computes them,
// ROUGE-1/2/L/Lsum as Google's rouge-score, SQuAD EM/F1 (v1.1 and the v2.0
// no-answer rules) and its CMRC 2018 Chinese variant, retrieval metrics
// (recall@k, precision@k, MRR, nDCG, MAP), significance tests between two
// systems (paired bootstrap, approximate randomisation) and the A/B statistics
// of online experiments (two-proportion z-test, Welch's t-test, Mann-Whitney U,
// bootstrap confidence intervals, sample sizes), METEOR (NLTK's, without
// the WordNet stage), LLM-as-judge verdicts (pairwise with position swap,
// rubric scores) and the RAGAS metrics (faithfulness, answer relevancy,
// context precision, context recall) through a Chat function, and the
// harness behind `flywheel eval run`: a YAML Config, a resumable Run over
// variants through a Runner function, and report.json / report.html with
// bootstrap confidence intervals against a baseline.
//
// The reference implementations are the specification: where they depend on
// Python's string semantics (str.split, str.lower, re word boundaries) this
// package reproduces those semantics instead of Go's, so that a score differs
// from sacreBLEU's or rouge-score's by no more than floating-point rounding.
//
// References are passed per segment: refs[i] holds the reference strings of
// hyps[i], so segments may have different numbers of references. (sacreBLEU's
// own API takes reference streams, refs[k][i]; Transpose converts.)
package eval
