package document

import "strings"

// parseMarkdown keeps the Markdown source as the text and records its ATX
// ("## Title") and setext ("Title\n===") headings, outside fenced code.
func parseMarkdown(name string, data []byte, _ Options) ([]Document, error) {
	text := validText(data)
	heads := markdownHeadings(text)
	title := baseTitle(name)
	if len(heads) > 0 {
		title = heads[0].Text
		for _, h := range heads {
			if h.Level == 1 {
				title = h.Text
				break
			}
		}
	}
	return []Document{{ID: contentID(name, text), Path: name, Title: title, Text: text, Headings: heads,
		Meta: map[string]string{"format": "markdown"}}}, nil
}

// markdownHeadings scans text line by line.
func markdownHeadings(text string) []Heading {
	var heads []Heading
	fence := ""
	prevStart, prevLine := -1, ""
	for start := 0; start < len(text); {
		end := strings.IndexByte(text[start:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		line := strings.TrimRight(text[start:end], "\r")
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case fence != "":
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			line = ""
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			fence = trimmed[:3]
			line = ""
		default:
			if level, t, ok := atxHeading(trimmed); ok && len(line)-len(trimmed) < 4 {
				heads = append(heads, Heading{Level: level, Text: t, Start: start})
				line = ""
			} else if level := setextLevel(trimmed); level > 0 && prevStart >= 0 && strings.TrimSpace(prevLine) != "" {
				heads = append(heads, Heading{Level: level, Text: strings.TrimSpace(prevLine), Start: prevStart})
				line = ""
			}
		}
		prevStart, prevLine = start, line
		start = end + 1
	}
	return heads
}

// atxHeading parses "### Title ###".
func atxHeading(s string) (level int, title string, ok bool) {
	for level < len(s) && s[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || (level < len(s) && s[level] != ' ' && s[level] != '\t') {
		return 0, "", false
	}
	t := strings.TrimSpace(s[level:])
	t = strings.TrimSpace(strings.TrimRight(t, "#"))
	return level, t, true
}

// setextLevel is 1 for a "===" underline, 2 for "---", else 0.
func setextLevel(s string) int {
	s = strings.TrimSpace(s)
	if len(s) == 0 {
		return 0
	}
	switch {
	case strings.Trim(s, "=") == "":
		return 1
	case strings.Trim(s, "-") == "" && len(s) >= 2:
		return 2
	}
	return 0
}
