package document

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Options say how files are read. The zero value reads every supported
// format with the default JSON Lines field names.
type Options struct {
	// JSONL names the fields of a JSON Lines record.
	JSONL JSONLFields
	// Include keeps only the files of a directory that match one of these
	// globs (none: every supported file); Exclude drops files and whole
	// directories that match. A glob without "/" matches a base name; one
	// with "/" matches the slash-separated path below the directory, where
	// "**" stands for any number of directories.
	Include, Exclude []string
}

// Supported reports whether Load reads files named like name.
func Supported(name string) bool {
	_, ok := parsers[strings.ToLower(filepath.Ext(name))]
	return ok
}

// parser turns one file's bytes into documents.
type parser func(path string, data []byte, opt Options) ([]Document, error)

var parsers = map[string]parser{
	".txt":      parseText,
	".text":     parseText,
	".md":       parseMarkdown,
	".markdown": parseMarkdown,
	".html":     parseHTML,
	".htm":      parseHTML,
	".jsonl":    parseJSONL,
	".ndjson":   parseJSONL,
	".pdf":      parsePDF,
}

// LoadFile reads one file into its documents (one, or one per JSON Lines
// record), choosing the format by the file's extension.
func LoadFile(name string, opt Options) ([]Document, error) {
	p, ok := parsers[strings.ToLower(filepath.Ext(name))]
	if !ok {
		return nil, fmt.Errorf("document: %s: unsupported file type %q: use .txt, .md, .html, .jsonl or .pdf", name, filepath.Ext(name))
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	return p(name, data, opt)
}

// Files lists the supported files under root (root itself when it is a
// file) that pass opt's Include and Exclude globs, in lexical order.
func Files(ctx context.Context, root string, opt Options) ([]string, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	if !st.IsDir() {
		return []string{root}, nil
	}
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if matchAny(opt.Exclude, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !Supported(p) {
			return nil
		}
		if len(opt.Include) > 0 && !matchAny(opt.Include, rel) {
			return nil
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("document: walking %s: %w", root, err)
	}
	return out, nil
}

// Load reads every document under root (a file or a directory).
func Load(ctx context.Context, root string, opt Options) ([]Document, error) {
	files, err := Files(ctx, root, opt)
	if err != nil {
		return nil, err
	}
	var docs []Document
	for _, f := range files {
		ds, err := LoadFile(f, opt)
		if err != nil {
			return nil, err
		}
		docs = append(docs, ds...)
	}
	return docs, nil
}

func matchAny(globs []string, rel string) bool {
	for _, g := range globs {
		if matchGlob(g, rel) {
			return true
		}
	}
	return false
}

// matchGlob matches a slash path against a glob as Options describes.
func matchGlob(glob, rel string) bool {
	if !strings.Contains(glob, "/") {
		ok, _ := path.Match(glob, path.Base(rel))
		return ok
	}
	return matchSegments(strings.Split(glob, "/"), strings.Split(rel, "/"))
}

func matchSegments(glob, parts []string) bool {
	for len(glob) > 0 {
		if glob[0] == "**" {
			for i := 0; i <= len(parts); i++ {
				if matchSegments(glob[1:], parts[i:]) {
					return true
				}
			}
			return false
		}
		if len(parts) == 0 {
			return false
		}
		if ok, _ := path.Match(glob[0], parts[0]); !ok {
			return false
		}
		glob, parts = glob[1:], parts[1:]
	}
	return len(parts) == 0
}

// baseTitle is a file's base name without its extension.
func baseTitle(name string) string {
	b := filepath.Base(name)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

func validText(data []byte) string {
	return strings.ToValidUTF8(strings.TrimPrefix(string(data), "\uFEFF"), "\uFFFD")
}

func parseText(name string, data []byte, _ Options) ([]Document, error) {
	text := validText(data)
	return []Document{{ID: contentID(name, text), Path: name, Title: baseTitle(name), Text: text,
		Meta: map[string]string{"format": "text"}}}, nil
}
