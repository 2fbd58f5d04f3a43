package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"flywheel/internal/eval"
)

// evalsDir holds the eval runs the server shows: each a directory with
// the report.json and report.html of `flywheel eval run --out`.
func (s *Server) evalsDir() string { return filepath.Join(s.cfg.Store.Dir(), "evals") }

// evalJSON summarizes an eval run.
type evalJSON struct {
	Name     string          `json:"name"`
	Created  time.Time       `json:"created"`
	Examples int             `json:"examples"`
	Baseline string          `json:"baseline"`
	Variants []evalVariant   `json:"variants"`
	Error    string          `json:"error,omitempty"`
	Reports  map[string]bool `json:"reports"`
}

type evalVariant struct {
	Name    string             `json:"name"`
	Metrics map[string]float64 `json:"metrics"`
}

// listEvals is GET /api/evals: the runs under DATA/evals, newest first.
func (s *Server) listEvals(w http.ResponseWriter, r *http.Request) {
	entries, err := os.ReadDir(s.evalsDir())
	if err != nil && !os.IsNotExist(err) {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := []evalJSON{}
	for _, e := range entries {
		if !e.IsDir() || !validEvalName(e.Name()) {
			continue
		}
		if ev, ok := s.evalSummary(e.Name()); ok {
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	writeJSON(w, http.StatusOK, map[string]any{"evals": out, "dir": "evals"})
}

// evalSummary reads a run's report.json; ok is false for a directory
// with no report.
func (s *Server) evalSummary(name string) (evalJSON, bool) {
	dir := filepath.Join(s.evalsDir(), name)
	ev := evalJSON{Name: name, Variants: []evalVariant{}, Reports: map[string]bool{}}
	for _, f := range []string{eval.ReportJSON, eval.ReportHTML} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			ev.Reports[f] = true
		}
	}
	if len(ev.Reports) == 0 {
		return ev, false
	}
	raw, err := os.ReadFile(filepath.Join(dir, eval.ReportJSON))
	if err != nil {
		ev.Error = "no report.json"
		return ev, true
	}
	var rep eval.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		ev.Error = "report.json: " + err.Error()
		return ev, true
	}
	ev.Created, ev.Examples, ev.Baseline = rep.Created, rep.Examples, rep.Baseline
	for _, v := range rep.Variants {
		vm := evalVariant{Name: v.Name, Metrics: map[string]float64{}}
		for _, m := range v.Metrics {
			vm.Metrics[m.Metric] = m.Score
		}
		ev.Variants = append(ev.Variants, vm)
	}
	return ev, true
}

// validEvalName keeps run names to one plain path element.
func validEvalName(name string) bool {
	return name != "" && name != "." && name != ".." && filepath.Base(name) == name && name[0] != '.'
}

// getEvalReport is GET /api/evals/{name}/report.json and
// /api/evals/{name}/report.html.
func (s *Server) getEvalReport(w http.ResponseWriter, r *http.Request) {
	name, file := r.PathValue("name"), r.PathValue("file")
	if file != eval.ReportJSON && file != eval.ReportHTML {
		writeError(w, http.StatusNotFound, fmt.Sprintf("an eval run has %s and %s, not %q", eval.ReportJSON, eval.ReportHTML, file))
		return
	}
	if !validEvalName(name) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("eval run name %q: give a name that GET /api/evals lists", name))
		return
	}
	path := filepath.Join(s.evalsDir(), name, file)
	f, err := os.Open(path)
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("eval run %q has no %s: GET /api/evals lists the runs", name, file))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		writeError(w, http.StatusNotFound, fmt.Sprintf("eval run %q has no %s", name, file))
		return
	}
	if file == eval.ReportHTML {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The report is self-contained: it may run its own scripts and
		// styles, but load nothing and reach nothing else.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; sandbox allow-scripts")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	http.ServeContent(w, r, file, st.ModTime(), f)
}
