package tokenizer

import (
	"strings"
)

// referenceEncode is the naive O(n²) statement of the SentencePiece BPE rules
// (llama2.c's encode loop, with llama.cpp's character split and byte
// fallback): it is what encode must equal. It covers plain text only
// (addSpecial and parseSpecial false, no user-defined tokens).
func referenceEncode(t *Tokenizer, text string) []int {
	if text == "" {
		return nil
	}
	if t.stripSpace {
		text = " " + text
	}
	s := strings.ReplaceAll(text, " ", "▁")
	var syms []string
	for off := 0; off < len(s); {
		n := min(utf8Len(s[off]), len(s)-off)
		syms = append(syms, s[off:off+n])
		off += n
	}
	for {
		best, bestScore := -1, float32(0)
		for i := 0; i+1 < len(syms); i++ {
			id, ok := t.ids[syms[i]+syms[i+1]]
			if ok && (best < 0 || t.scores[id] > bestScore) {
				best, bestScore = i, t.scores[id]
			}
		}
		if best < 0 {
			break
		}
		syms[best] += syms[best+1]
		syms = append(syms[:best+1], syms[best+2:]...)
	}
	var out []int
	for _, p := range syms {
		if id, ok := t.ids[p]; ok {
			out = append(out, id)
			continue
		}
		for i := 0; i < len(p); i++ {
			if id, ok := t.ids[byteTokenText(p[i])]; ok {
				out = append(out, id)
			} else if t.unk >= 0 {
				out = append(out, t.unk)
			}
		}
	}
	return out
}
