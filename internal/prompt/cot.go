package prompt

import (
	"regexp"
	"strings"
)

// answerLine matches the line that starts a chain-of-thought's final
// answer: "Answer:", "Final answer:", "**Answer:**", "答案：", "最终答案：".
var answerLine = regexp.MustCompile(`(?im)^[ \t>#*_-]*(?:final answer|answer|最终答案|答案)[ \t*_]*[:：][ \t*_]*`)

// SplitAnswer splits a chain-of-thought completion into its reasoning and
// its final answer: the text after the last line that starts with
// "Answer:" (or "Final answer:", "答案：", in bold or not). A reasoning
// block <think>…</think> is reasoning too. ok is false when the completion
// has no answer line (nor a closed <think> block): answer is then the whole
// completion, trimmed, and reasoning is "".
func SplitAnswer(completion string) (reasoning, answer string, ok bool) {
	var think string
	rest := completion
	if before, after, found := strings.Cut(completion, "</think>"); found {
		think = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(before), "<think>"))
		rest, ok = after, true
	}
	if locs := answerLine.FindAllStringIndex(rest, -1); len(locs) > 0 {
		last := locs[len(locs)-1]
		reasoning = joinNonEmpty(think, strings.TrimSpace(rest[:last[0]]))
		return reasoning, strings.TrimSpace(rest[last[1]:]), true
	}
	if ok {
		return think, strings.TrimSpace(rest), true
	}
	return "", strings.TrimSpace(completion), false
}

// FinalAnswer is the answer part of a chain-of-thought completion (see
// SplitAnswer); the whole completion when it has no answer line.
func FinalAnswer(completion string) string {
	_, answer, _ := SplitAnswer(completion)
	return answer
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n\n" + b
}
