package tokenizer

// heapPush and heapPop keep h a binary heap ordered by before(h, i, j)
// ("item i comes out before item j"): the merge queues of BPE (lowest rank
// first) and SentencePiece (highest score first) share them.
func heapPush[T any, H ~[]T](h H, x T, before func(h H, i, j int) bool) H {
	h = append(h, x)
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !before(h, i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
	return h
}

func heapPop[T any, H ~[]T](h H, before func(h H, i, j int) bool) (T, H) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		best, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && before(h, l, best) {
			best = l
		}
		if r < len(h) && before(h, r, best) {
			best = r
		}
		if best == i {
			break
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
	return top, h
}
