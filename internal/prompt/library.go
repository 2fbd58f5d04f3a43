package prompt

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

//go:embed templates/*.tmpl
var defaults embed.FS

// ErrNoTemplate is returned (wrapped) for a name or version the library
// does not hold.
var ErrNoTemplate = errors.New("no such prompt template")

// Library holds every version of every template by name. It is read-only
// once opened and safe for concurrent use.
type Library struct {
	byName map[string][]*Template // sorted by version
}

// Open loads the embedded default templates and overlays dir/prompts/*.tmpl
// (dir is the data directory; "" or a missing prompts folder loads the
// defaults only). A file with the name and version of a default replaces
// it; a higher version becomes the one Get returns.
func Open(dir string) (*Library, error) {
	lib := &Library{byName: map[string][]*Template{}}
	if err := lib.load(defaults, "templates", "embedded:"); err != nil {
		return nil, err
	}
	if dir == "" {
		return lib, nil
	}
	prompts := filepath.Join(dir, "prompts")
	if _, err := os.Stat(prompts); errors.Is(err, fs.ErrNotExist) {
		return lib, nil
	}
	if err := lib.load(os.DirFS(prompts), ".", prompts+string(filepath.Separator)); err != nil {
		return nil, err
	}
	return lib, nil
}

// load parses the *.tmpl files of folder in fsys; prefix makes a file's
// Source. Within one layer a name and version may appear once; a template
// replaces the one of an earlier layer with the same name and version.
func (l *Library) load(fsys fs.FS, folder, prefix string) error {
	files, err := fs.Glob(fsys, pathJoin(folder, "*.tmpl"))
	if err != nil {
		return fmt.Errorf("prompt: %s: %w", prefix, err)
	}
	layer := map[string]*Template{} // "name v" → template of this layer
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fmt.Errorf("prompt: %w", err)
		}
		t, err := ParseTemplate(prefix+strings.TrimPrefix(f, "./"), src)
		if err != nil {
			return err
		}
		key := fmt.Sprintf("%s v%d", t.Name, t.Version)
		if prev := layer[key]; prev != nil {
			return fmt.Errorf("prompt: %s and %s both hold %s: remove one or raise its version", prev.Source, t.Source, key)
		}
		layer[key] = t
		l.put(t)
	}
	return nil
}

func pathJoin(folder, name string) string {
	if folder == "." {
		return name
	}
	return folder + "/" + name
}

// put adds t, replacing a template of the same name and version.
func (l *Library) put(t *Template) {
	versions := l.byName[t.Name]
	i, found := slices.BinarySearchFunc(versions, t.Version, func(x *Template, v int) int { return cmp.Compare(x.Version, v) })
	if found {
		versions[i] = t
		return
	}
	l.byName[t.Name] = slices.Insert(versions, i, t)
}

// Get returns the highest version of the template name.
func (l *Library) Get(name string) (*Template, error) {
	versions := l.byName[name]
	if len(versions) == 0 {
		return nil, fmt.Errorf("prompt: template %q: %w (have %s)", name, ErrNoTemplate, strings.Join(l.names(), ", "))
	}
	return versions[len(versions)-1], nil
}

// GetVersion returns version v of the template name.
func (l *Library) GetVersion(name string, v int) (*Template, error) {
	for _, t := range l.byName[name] {
		if t.Version == v {
			return t, nil
		}
	}
	if _, err := l.Get(name); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("prompt: template %q version %d: %w (have %s)", name, v, ErrNoTemplate, l.versions(name))
}

// List returns every template, by name and then version.
func (l *Library) List() []*Template {
	var out []*Template
	for _, name := range l.names() {
		out = append(out, l.byName[name]...)
	}
	return out
}

func (l *Library) names() []string {
	return slices.Sorted(maps.Keys(l.byName))
}

func (l *Library) versions(name string) string {
	var vs []string
	for _, t := range l.byName[name] {
		vs = append(vs, fmt.Sprintf("v%d", t.Version))
	}
	return strings.Join(vs, ", ")
}
