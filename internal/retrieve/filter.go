package retrieve

import (
	"fmt"
	"strings"
)

// Filter keeps the chunks whose document matches every field set. The
// zero value keeps everything.
type Filter struct {
	// Meta: each key must have exactly this value in the document's Meta
	// ("title" and "path" match the document's own fields).
	Meta map[string]string
	// PathPrefix: the document's path must start with it.
	PathPrefix string
	// DocIDs: the document must be one of these.
	DocIDs []string
}

// IsZero reports whether f keeps everything.
func (f Filter) IsZero() bool { return len(f.Meta) == 0 && f.PathPrefix == "" && len(f.DocIDs) == 0 }

// ParseFilter reads "key=value" pairs (as repeated --filter flags give).
func ParseFilter(pairs []string) (Filter, error) {
	var f Filter
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return Filter{}, fmt.Errorf("retrieve: filter %q: write key=value", p)
		}
		if f.Meta == nil {
			f.Meta = map[string]string{}
		}
		f.Meta[k] = v
	}
	return f, nil
}

// Match reports whether a document passes f.
func (f Filter) Match(d DocInfo) bool {
	if f.PathPrefix != "" && !strings.HasPrefix(d.Path, f.PathPrefix) {
		return false
	}
	if len(f.DocIDs) > 0 && !contains(f.DocIDs, d.ID) {
		return false
	}
	for k, v := range f.Meta {
		got, ok := d.Meta[k]
		switch k {
		case "title":
			got, ok = d.Title, true
		case "path":
			got, ok = d.Path, true
		case "doc_id":
			got, ok = d.ID, true
		}
		if !ok || got != v {
			return false
		}
	}
	return true
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// keeper turns f into the index's keep function (nil keeps all).
func (r *Retriever) keeper(f Filter) (func(string) bool, error) {
	if f.IsZero() {
		return nil, nil
	}
	if r.Passages == nil {
		return nil, fmt.Errorf("retrieve: filters need a passage source")
	}
	return func(id string) bool {
		d, ok := r.Passages.DocOf(id)
		return ok && f.Match(d)
	}, nil
}
