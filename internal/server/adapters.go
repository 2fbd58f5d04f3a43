package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"flywheel/internal/store"
)

// AdapterEngine is the local engine as the adapters API drives it: it
// serves LoRA adapters over its base model as "base:name" (llm.Local
// implements it).
type AdapterEngine interface {
	// Name is the base model's name.
	Name() string
	LoadAdapter(name, path string) error
	// UnloadAdapter returns once the requests using the adapter finished.
	UnloadAdapter(name string) error
	Adapters() []string
}

// adaptersFileName is the file, in the data directory, of the adapters
// promoted through the API: a restarted server loads them again.
const adaptersFileName = "adapters.json"

// adaptersSchema names and versions the format of adapters.json.
const adaptersSchema = "flywheel.adapters/1"

// adapterName is what an adapter may be called.
var adapterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// adapterSourceStartup is the source of an adapter loaded before the
// server started (flywheel serve --lora).
const adapterSourceStartup = "startup"

// errNoLocalModel answers the adapters API on a server without a local
// engine.
const errNoLocalModel = "no local model is served: start with --model (adapters are served over a local base model)"

// promotedAdapter is one adapter promoted through the API, as
// adapters.json keeps it.
type promotedAdapter struct {
	Name string `json:"name"`
	// Base is the base model's name: a server with another base model
	// leaves the adapter alone.
	Base string `json:"base"`
	// Path is the adapter file or PEFT directory; relative paths are
	// relative to the data directory.
	Path string `json:"path"`
	// Source is the job that trained it, or the path it was promoted from.
	Source   string    `json:"source"`
	LoadedAt time.Time `json:"loaded_at"`
}

// adaptersFile is the content of adapters.json.
type adaptersFile struct {
	Schema   string            `json:"schema"`
	Adapters []promotedAdapter `json:"adapters"`
}

// adapterJSON is a served adapter as GET /api/adapters lists it.
type adapterJSON struct {
	Name     string    `json:"name"`
	Model    string    `json:"model"`
	Source   string    `json:"source"`
	LoadedAt time.Time `json:"loaded_at"`
}

// promoteRequest is the body of POST /api/adapters: a name and either
// the job whose adapter to serve or an adapter's path on the server.
type promoteRequest struct {
	Name string `json:"name"`
	Job  string `json:"job,omitempty"`
	Path string `json:"path,omitempty"`
}

// adapterRegistry keeps the adapters served over the local engine in
// step with adapters.json. Its lock serializes promotions and unloads.
type adapterRegistry struct {
	engine  AdapterEngine
	dataDir string
	started time.Time

	mu       sync.Mutex
	promoted []promotedAdapter          // adapters.json, every base model
	loaded   map[string]promotedAdapter // by name: what this server loaded from adapters.json or promoted
}

// newAdapterRegistry loads the adapters adapters.json lists for the
// engine's base model, except those the engine already serves (loaded at
// start-up, which win). An adapter that fails to load is logged and left
// in the file.
func newAdapterRegistry(s *Server) *adapterRegistry {
	reg := &adapterRegistry{engine: s.cfg.Adapters, dataDir: s.cfg.Store.Dir(), started: time.Now(), loaded: map[string]promotedAdapter{}}
	if reg.engine == nil {
		return reg
	}
	log := s.cfg.Logger
	promoted, err := readAdaptersFile(reg.file())
	if err != nil {
		log.Error("the promoted adapters are not loaded", "error", err.Error())
		return reg
	}
	reg.promoted = promoted
	base, served := reg.engine.Name(), reg.engine.Adapters()
	for _, p := range promoted {
		switch {
		case p.Base != base:
			continue
		case slices.Contains(served, p.Name):
			log.Info("adapter loaded at start-up replaces the promoted one of that name", "adapter", p.Name, "promoted_source", p.Source)
			continue
		}
		if err := reg.engine.LoadAdapter(p.Name, reg.resolve(p.Path)); err != nil {
			log.Warn("a promoted adapter failed to load: DELETE /api/adapters/{name} forgets it", "adapter", p.Name, "error", err.Error())
			continue
		}
		reg.loaded[p.Name] = p
		log.Info("promoted adapter loaded", "adapter", p.Name, "model", base+":"+p.Name, "source", p.Source)
	}
	return reg
}

func (reg *adapterRegistry) file() string { return filepath.Join(reg.dataDir, adaptersFileName) }

// resolve makes a stored path usable: relative paths are relative to the
// data directory.
func (reg *adapterRegistry) resolve(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(reg.dataDir, path)
}

// readAdaptersFile reads adapters.json; a missing file lists none.
func readAdaptersFile(path string) ([]promotedAdapter, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("promoted adapters: %w", err)
	}
	var f adaptersFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("promoted adapters: %s: %w (fix or remove the file)", path, err)
	}
	if f.Schema != adaptersSchema {
		return nil, fmt.Errorf("promoted adapters: %s: schema %q, want %q (a newer flywheel wrote it?)", path, f.Schema, adaptersSchema)
	}
	return f.Adapters, nil
}

// writeAdaptersFile replaces adapters.json atomically: a crash leaves the
// old list or the new one.
func writeAdaptersFile(path string, promoted []promotedAdapter) error {
	raw, err := json.MarshalIndent(adaptersFile{Schema: adaptersSchema, Adapters: promoted}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), adaptersFileName+".tmp*")
	if err != nil {
		return fmt.Errorf("saving the promoted adapters: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a failure; gone after the rename
	_, err = tmp.Write(append(raw, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("saving the promoted adapters to %s: %w", path, err)
	}
	return nil
}

// list returns the served adapters, sorted by name.
func (reg *adapterRegistry) list() []adapterJSON {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	base := reg.engine.Name()
	out := []adapterJSON{}
	for _, name := range reg.engine.Adapters() {
		a := adapterJSON{Name: name, Model: base + ":" + name, Source: adapterSourceStartup, LoadedAt: reg.started}
		if p, ok := reg.loaded[name]; ok {
			a.Source, a.LoadedAt = p.Source, p.LoadedAt
		}
		out = append(out, a)
	}
	return out
}

// promote loads p's adapter over the engine as p.Name (replacing one of
// that name) and records it in adapters.json. replaced reports whether
// an adapter of that name was served. When the file cannot be written the
// adapter is served all the same, until the server stops, and the error
// is errAdapterNotSaved.
func (reg *adapterRegistry) promote(p promotedAdapter) (a adapterJSON, replaced bool, err error) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	p.Base = reg.engine.Name()
	replaced = slices.Contains(reg.engine.Adapters(), p.Name)
	if err := reg.engine.LoadAdapter(p.Name, reg.resolve(p.Path)); err != nil {
		return a, false, err
	}
	p.LoadedAt = time.Now().UTC()
	reg.loaded[p.Name] = p
	a = adapterJSON{Name: p.Name, Model: p.Base + ":" + p.Name, Source: p.Source, LoadedAt: p.LoadedAt}
	promoted := append(reg.without(p.Name), p)
	if err := writeAdaptersFile(reg.file(), promoted); err != nil {
		return a, replaced, fmt.Errorf("%w: %w", errAdapterNotSaved, err)
	}
	reg.promoted = promoted
	return a, replaced, nil
}

// errAdapterNotSaved is the error of an adapter promoted but not
// recorded in adapters.json.
var errAdapterNotSaved = errors.New("the adapter is served but will not survive a restart")

// errAdapterUnknown is the error of unloading an adapter that is neither
// served nor recorded.
var errAdapterUnknown = errors.New("no such adapter")

// unload stops serving the named adapter (waiting for the requests using
// it) and forgets it in adapters.json. A recorded adapter that failed to
// load is forgotten too.
func (reg *adapterRegistry) unload(name string) error {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	served := slices.Contains(reg.engine.Adapters(), name)
	rest := reg.without(name)
	if !served && len(rest) == len(reg.promoted) {
		return errAdapterUnknown
	}
	if served {
		if err := reg.engine.UnloadAdapter(name); err != nil {
			return err
		}
	}
	delete(reg.loaded, name)
	if len(rest) == len(reg.promoted) {
		return nil
	}
	if err := writeAdaptersFile(reg.file(), rest); err != nil {
		return err
	}
	reg.promoted = rest
	return nil
}

// without returns the recorded adapters other than the engine's base
// model's adapter name, in a new slice.
func (reg *adapterRegistry) without(name string) []promotedAdapter {
	base := reg.engine.Name()
	out := []promotedAdapter{}
	for _, p := range reg.promoted {
		if p.Base != base || p.Name != name {
			out = append(out, p)
		}
	}
	return out
}

// adaptersOn answers 501 on a server without a local engine, and 403 to
// a write by a key without the admin scope; it reports whether to go on.
func (s *Server) adaptersOn(w http.ResponseWriter, r *http.Request, write bool) bool {
	if s.cfg.Adapters == nil {
		writeError(w, http.StatusNotImplemented, errNoLocalModel)
		return false
	}
	if _, admin := Identity(r.Context()); write && !admin {
		writeError(w, http.StatusForbidden, "changing the served adapters changes what every client gets: it takes an admin key")
		return false
	}
	return true
}

// listAdapters is GET /api/adapters: the adapters served over the local
// model, for any key.
func (s *Server) listAdapters(w http.ResponseWriter, r *http.Request) {
	if !s.adaptersOn(w, r, false) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"base": s.cfg.Adapters.Name(), "adapters": s.app.adapters.list()})
}

// promoteAdapter is POST /api/adapters {"name", "job"} or {"name",
// "path"} (admin keys): it serves the adapter a finished tune job trained,
// or the adapter file or PEFT directory at path, as "base:name" from now
// on and after restarts. 201, or 200 when it replaced an adapter of that
// name.
func (s *Server) promoteAdapter(w http.ResponseWriter, r *http.Request) {
	if !s.adaptersOn(w, r, true) {
		return
	}
	var req promoteRequest
	if !readJSON(w, r, &req) {
		return
	}
	if field, msg := s.checkPromote(req); field != "" {
		writeErrorParam(w, http.StatusBadRequest, msg, field, "")
		return
	}
	p := promotedAdapter{Name: req.Name, Path: req.Path, Source: req.Path}
	status := http.StatusBadRequest // an adapter at path that does not load
	if req.Job != "" {
		var ok bool
		if p.Path, ok = s.jobAdapter(w, r, req.Job); !ok {
			return
		}
		p.Source, status = req.Job, http.StatusConflict
	} else if abs, err := filepath.Abs(req.Path); err == nil {
		p.Path, p.Source = abs, abs
	}
	a, replaced, err := s.app.adapters.promote(p)
	switch {
	case errors.Is(err, errAdapterNotSaved):
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("adapter %q: %v; promote it again once the data directory is writable", req.Name, err))
		return
	case err != nil:
		writeError(w, status, fmt.Sprintf("adapter %q was not loaded: %v", req.Name, err))
		return
	}
	s.cfg.Logger.Info("adapter promoted", "adapter", a.Name, "model", a.Model, "source", a.Source, "replaced", replaced)
	if replaced {
		writeJSON(w, http.StatusOK, a)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// checkPromote returns the field at fault in a promotion and why, or "".
func (s *Server) checkPromote(req promoteRequest) (field, msg string) {
	switch {
	case req.Name == "":
		return "name", `field "name" is missing: name the adapter (letters, digits, "_", "." and "-"); it is served as ` + s.cfg.Adapters.Name() + ":NAME"
	case !adapterName.MatchString(req.Name):
		return "name", fmt.Sprintf("adapter name %q: use up to 64 letters, digits, \"_\", \".\" and \"-\", starting with a letter or digit", req.Name)
	case req.Name == s.cfg.Adapters.Name():
		return "name", fmt.Sprintf("adapter name %q is the base model's: choose another", req.Name)
	case (req.Job == "") == (req.Path == ""):
		return "job", `give either "job" (a finished tune job whose adapter to serve) or "path" (an adapter file or PEFT directory on the server)`
	case req.Path != "" && !adapterPathOK(req.Path):
		return "path", fmt.Sprintf("path %q: no such file or directory on the server", req.Path)
	}
	return "", ""
}

// adapterPathOK reports whether path is a file or directory that an
// adapter may be in (not a device or pipe, which could block the load).
func adapterPathOK(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && (fi.Mode().IsRegular() || fi.IsDir())
}

// jobAdapter returns the adapter a finished tune job wrote, relative to
// the data directory. It writes 404 for an unknown job and 409 for one
// that is not done or trained another base model, and returns false.
func (s *Server) jobAdapter(w http.ResponseWriter, r *http.Request, id string) (string, bool) {
	j, err := s.cfg.Store.Job(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeErrorParam(w, http.StatusNotFound, fmt.Sprintf("job %q not found: GET /api/jobs lists the jobs", id), "job", "")
		return "", false
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return "", false
	}
	job := newJobJSON(j)
	var msg string
	switch {
	case job.Kind != "tune":
		msg = fmt.Sprintf("job %s is a %q job, which trains no adapter", id, job.Kind)
	case job.State != jobDone:
		msg = fmt.Sprintf("job %s is %s: promote it once it is done", id, job.State)
	case job.Progress == nil || job.Progress.Adapter == "":
		msg = fmt.Sprintf("job %s recorded no adapter: run it again", id)
	case !s.trainedServedModel(job.Config.Model):
		msg = fmt.Sprintf("job %s trained model %q, not the served %s: its adapter would not fit", id, job.Config.Model, s.cfg.Adapters.Name())
	case !exists(filepath.Join(s.cfg.Store.Dir(), job.Progress.Adapter)):
		msg = fmt.Sprintf("job %s's adapter %s is gone from the data directory: run the job again", id, job.Progress.Adapter)
	}
	if msg != "" {
		writeErrorParam(w, http.StatusConflict, msg, "job", "")
		return "", false
	}
	return job.Progress.Adapter, true
}

// trainedServedModel reports whether a job's model (a name of
// TuneConfig.Models or a path) is the served base model. When the server
// does not know the base model's file it trusts the job, and loading the
// adapter checks the shapes.
func (s *Server) trainedServedModel(model string) bool {
	base := s.cfg.Adapters.Name()
	basePath := s.cfg.Tune.Models[base]
	if model == base || basePath == "" {
		return true
	}
	path := s.cfg.Tune.Models[model]
	if path == "" {
		path = model
	}
	return sameFile(path, basePath)
}

// sameFile reports whether two paths name one file.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return os.SameFile(fa, fb)
}

// unloadAdapter is DELETE /api/adapters/{name} (admin keys): the adapter
// stops being served, once the requests using it finished, and is not
// loaded after a restart (unless flywheel serve --lora names it). 204.
func (s *Server) unloadAdapter(w http.ResponseWriter, r *http.Request) {
	if !s.adaptersOn(w, r, true) {
		return
	}
	name := r.PathValue("name")
	err := s.app.adapters.unload(name)
	switch {
	case errors.Is(err, errAdapterUnknown):
		writeError(w, http.StatusNotFound, fmt.Sprintf("adapter %q is not served: GET /api/adapters lists them", name))
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("unloading adapter %q: %v", name, err))
		return
	}
	s.cfg.Logger.Info("adapter unloaded", "adapter", name)
	w.WriteHeader(http.StatusNoContent)
}
