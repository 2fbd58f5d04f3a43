package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"flywheel/internal/store"
)

// Job states. A job is queued, then running, then done, failed or
// cancelled; a server that stops while it runs leaves it interrupted.
// Cancelled, interrupted and failed jobs resume from their last
// checkpoint.
const (
	jobQueued      = "queued"
	jobRunning     = "running"
	jobDone        = "done"
	jobFailed      = "failed"
	jobCancelled   = "cancelled"
	jobInterrupted = "interrupted"
)

// maxQueuedJobs bounds the jobs waiting for the runner.
const maxQueuedJobs = 16

// jobJSON is a job as the API shows it.
type jobJSON struct {
	ID       string       `json:"id"`
	Owner    string       `json:"owner"`
	Kind     string       `json:"kind"`
	State    string       `json:"state"`
	Config   tuneRequest  `json:"config"`
	Progress *jobProgress `json:"progress,omitempty"`
	Error    string       `json:"error,omitempty"`
	Created  time.Time    `json:"created"`
	Updated  time.Time    `json:"updated"`
}

// jobProgress is where a job stands, as stored and shown.
type jobProgress struct {
	Step         int     `json:"step"`
	Steps        int     `json:"steps"`
	Epoch        int     `json:"epoch"`
	Loss         float64 `json:"loss"`
	LR           float64 `json:"lr"`
	ValLoss      float64 `json:"val_loss,omitempty"`
	TokensPerSec float64 `json:"tokens_per_sec"`
	ETASeconds   float64 `json:"eta_seconds"`
	// Examples is the number of training examples; Adapter, when done,
	// the trained adapter (relative to the data directory).
	Examples int    `json:"examples,omitempty"`
	Adapter  string `json:"adapter,omitempty"`
}

// jobEvent is one server-sent event of GET /api/jobs/{id}/events.
type jobEvent struct {
	// Type is "job" (the job, first), "step" (an optimizer step), "eval"
	// (a validation loss), "checkpoint", "log" (a message) or "state" (a
	// change of state; the stream ends after a final one).
	Type    string   `json:"type"`
	Job     *jobJSON `json:"job,omitempty"`
	State   string   `json:"state,omitempty"`
	Step    int      `json:"step,omitempty"`
	Steps   int      `json:"steps,omitempty"`
	Loss    float64  `json:"loss,omitempty"`
	ValLoss float64  `json:"val_loss,omitempty"`
	LR      float64  `json:"lr,omitempty"`
	Message string   `json:"message,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// final reports whether a state event ends the job's run.
func (e jobEvent) final() bool {
	return e.Type == "state" && e.State != jobQueued && e.State != jobRunning
}

// jobRunner runs jobs one at a time (training takes every core) in a
// goroutine of its own, and fans their events out to listeners.
type jobRunner struct {
	s *Server

	mu      sync.Mutex
	ctx     context.Context // ends when the server closes
	stop    context.CancelFunc
	queue   chan string
	started bool
	live    map[string]*liveJob // queued or running
	wg      sync.WaitGroup
}

// liveJob is a queued or running job: how to cancel it and who listens.
type liveJob struct {
	cancel    context.CancelFunc // nil while queued
	cancelled bool
	history   []jobEvent // its events so far, for late listeners
	subs      map[chan jobEvent]bool
}

// newJobRunner marks the jobs a previous server left queued or running as
// interrupted.
func newJobRunner(s *Server) *jobRunner {
	ctx, stop := context.WithCancel(context.Background())
	r := &jobRunner{s: s, ctx: ctx, stop: stop, queue: make(chan string, maxQueuedJobs), live: map[string]*liveJob{}}
	n, err := s.cfg.Store.ReplaceJobStates(ctx, []string{jobQueued, jobRunning}, jobInterrupted,
		"the server stopped before the job finished: POST /api/jobs/{id}/resume continues it")
	if err != nil {
		s.cfg.Logger.Error("marking interrupted jobs", "error", err.Error())
	} else if n > 0 {
		s.cfg.Logger.Warn("jobs interrupted by the last shutdown", "jobs", n)
	}
	return r
}

// Why enqueue refuses a job.
var (
	errJobsFull = fmt.Errorf("%d jobs are already waiting: retry later", maxQueuedJobs)
	errJobLive  = errors.New("the job is still stopping: retry in a moment")
	errClosing  = errors.New("the server is shutting down")
)

// enqueue queues a stored job.
func (r *jobRunner) enqueue(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.ctx.Err() != nil:
		return errClosing
	case r.live[id] != nil:
		return errJobLive
	}
	if !r.started {
		r.started = true
		r.wg.Add(1)
		go r.work()
	}
	select {
	case r.queue <- id:
		r.live[id] = &liveJob{subs: map[chan jobEvent]bool{}}
		return nil
	default:
		return errJobsFull
	}
}

// writeEnqueueError answers a job the runner refused.
func writeEnqueueError(w http.ResponseWriter, err error) {
	switch err {
	case errJobsFull:
		writeRetryAfter(w, 60, err.Error())
	case errJobLive:
		writeRetryAfter(w, 1, err.Error())
	default:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	}
}

// work runs queued jobs until the server closes.
func (r *jobRunner) work() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case id := <-r.queue:
			r.run(id)
		}
	}
}

// close cancels the running job (it saves a checkpoint and becomes
// interrupted) and waits for the runner.
func (r *jobRunner) close() {
	r.mu.Lock()
	r.stop()
	for _, lj := range r.live {
		if lj.cancel != nil {
			lj.cancel()
		}
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// run runs one job to its end and records how it ended.
func (r *jobRunner) run(id string) {
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	r.mu.Lock()
	lj := r.live[id]
	skip := lj == nil || lj.cancelled
	if lj != nil {
		lj.cancel = cancel
	}
	r.mu.Unlock()
	if skip {
		r.finish(id, jobCancelled, nil, "cancelled before it started")
		return
	}
	st := r.s.cfg.Store
	job, err := st.Job(ctx, id)
	if err != nil {
		r.finish(id, jobFailed, nil, err.Error())
		return
	}
	r.setState(id, jobRunning, nil, "")
	prog, err := r.runTune(ctx, job)
	switch {
	case err == nil:
		r.finish(id, jobDone, prog, "")
	case r.ctx.Err() != nil:
		r.finish(id, jobInterrupted, prog, "the server stopped; a checkpoint was saved: POST /api/jobs/{id}/resume continues it")
	case ctx.Err() != nil:
		r.finish(id, jobCancelled, prog, "cancelled; a checkpoint was saved: POST /api/jobs/{id}/resume continues it")
	default:
		r.finish(id, jobFailed, prog, err.Error())
	}
}

// setState records a state and tells the listeners.
func (r *jobRunner) setState(id, state string, prog *jobProgress, errMsg string) {
	var raw json.RawMessage
	if prog != nil {
		raw, _ = json.Marshal(prog)
	}
	if err := r.s.cfg.Store.UpdateJob(context.Background(), id, state, raw, errMsg); err != nil {
		r.s.cfg.Logger.Error("recording a job's state", "job", id, "error", err.Error())
	}
	r.emit(id, jobEvent{Type: "state", State: state, Error: errMsg})
}

// finish records a job's final state and forgets it.
func (r *jobRunner) finish(id, state string, prog *jobProgress, errMsg string) {
	r.setState(id, state, prog, errMsg)
	r.mu.Lock()
	if lj := r.live[id]; lj != nil {
		for ch := range lj.subs {
			close(ch)
		}
	}
	delete(r.live, id)
	r.mu.Unlock()
}

// emit sends an event to a job's listeners and keeps it for later ones.
// A listener too slow to take it misses it.
func (r *jobRunner) emit(id string, e jobEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lj := r.live[id]
	if lj == nil {
		return
	}
	if e.Type == "step" || e.Type == "eval" {
		lj.history = append(lj.history, e)
	}
	for ch := range lj.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// subscribe returns the events of a live job so far and a channel of
// the next ones (closed when the job ends); ok is false when the job is
// not live.
func (r *jobRunner) subscribe(id string) (history []jobEvent, ch chan jobEvent, unsubscribe func(), ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lj := r.live[id]
	if lj == nil {
		return nil, nil, nil, false
	}
	ch = make(chan jobEvent, 256)
	lj.subs[ch] = true
	return append([]jobEvent(nil), lj.history...), ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if lj.subs[ch] {
			delete(lj.subs, ch)
		}
	}, true
}

// cancel asks a live job to stop; false when it is not live.
func (r *jobRunner) cancel(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	lj := r.live[id]
	if lj == nil {
		return false
	}
	lj.cancelled = true
	if lj.cancel != nil {
		lj.cancel()
	}
	return true
}

// jobDir is where a job writes its data, checkpoints and adapter.
func (s *Server) jobDir(id string) string {
	return filepath.Join(s.cfg.Store.Dir(), "jobs", id)
}

// createJob is POST /api/jobs {"kind": "tune", "model", "data" or
// "from_feedback", "options"}: it queues a fine-tuning run.
func (s *Server) createJob(w http.ResponseWriter, r *http.Request) {
	var req tuneRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !s.checkTune(w, r, &req) {
		return
	}
	owner, _ := Identity(r.Context())
	config, _ := json.Marshal(req)
	job, err := s.cfg.Store.CreateJob(r.Context(), store.Job{ID: newID("job_"), Owner: owner, Kind: req.Kind, Config: config, State: jobQueued})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if err := s.app.jobs.enqueue(job.ID); err != nil {
		s.cfg.Store.UpdateJob(r.Context(), job.ID, jobFailed, nil, "not started: "+err.Error())
		writeEnqueueError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, newJobJSON(job))
}

func newJobJSON(j store.Job) jobJSON {
	out := jobJSON{ID: j.ID, Owner: j.Owner, Kind: j.Kind, State: j.State, Error: j.Error, Created: j.Created, Updated: j.Updated}
	json.Unmarshal(j.Config, &out.Config)
	if len(j.Progress) > 0 {
		out.Progress = &jobProgress{}
		json.Unmarshal(j.Progress, out.Progress)
	}
	return out
}

// listJobs is GET /api/jobs: the caller's jobs (an admin's: all), newest
// first.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	name, admin := Identity(r.Context())
	jobs, err := s.cfg.Store.Jobs(r.Context(), name, admin)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := []jobJSON{}
	for _, j := range jobs {
		out = append(out, newJobJSON(j))
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
}

// visibleJob returns the job id if the caller may see it; otherwise it
// writes 404 and returns false.
func (s *Server) visibleJob(w http.ResponseWriter, r *http.Request) (store.Job, bool) {
	id := r.PathValue("id")
	j, err := s.cfg.Store.Job(r.Context(), id)
	if err == nil && !visible(r.Context(), j.Owner) {
		err = errNotVisible
	}
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, errNotVisible):
		writeError(w, http.StatusNotFound, fmt.Sprintf("job %q not found: GET /api/jobs lists yours", id))
		return store.Job{}, false
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return store.Job{}, false
	}
	return j, true
}

// getJob is GET /api/jobs/{id}.
func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	if j, ok := s.visibleJob(w, r); ok {
		writeJSON(w, http.StatusOK, newJobJSON(j))
	}
}

// cancelJob is POST /api/jobs/{id}/cancel: a running job stops after its
// current step, saving a checkpoint.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	j, ok := s.visibleJob(w, r)
	if !ok {
		return
	}
	if !s.app.jobs.cancel(j.ID) {
		writeError(w, http.StatusConflict, fmt.Sprintf("job %s is %s, not queued or running: there is nothing to cancel", j.ID, j.State))
		return
	}
	writeJSON(w, http.StatusAccepted, newJobJSON(j))
}

// resumeJob is POST /api/jobs/{id}/resume: a cancelled, interrupted or
// failed job is queued again and continues from its last checkpoint (or
// starts over when it saved none).
func (s *Server) resumeJob(w http.ResponseWriter, r *http.Request) {
	j, ok := s.visibleJob(w, r)
	if !ok {
		return
	}
	if j.State != jobCancelled && j.State != jobInterrupted && j.State != jobFailed {
		writeError(w, http.StatusConflict, fmt.Sprintf("job %s is %s: only a cancelled, interrupted or failed job resumes", j.ID, j.State))
		return
	}
	if err := s.cfg.Store.UpdateJob(r.Context(), j.ID, jobQueued, nil, ""); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if err := s.app.jobs.enqueue(j.ID); err != nil {
		s.cfg.Store.UpdateJob(r.Context(), j.ID, j.State, nil, j.Error)
		writeEnqueueError(w, err)
		return
	}
	j.State, j.Error = jobQueued, ""
	writeJSON(w, http.StatusAccepted, newJobJSON(j))
}

// jobEvents is GET /api/jobs/{id}/events: server-sent events, first
// {"type":"job"} with the job, then its steps so far and, while it is
// queued or running, each new event until it ends; then [DONE].
func (s *Server) jobEvents(w http.ResponseWriter, r *http.Request) {
	j, ok := s.visibleJob(w, r)
	if !ok {
		return
	}
	es := newEventStream(w)
	history, ch, unsubscribe, live := s.app.jobs.subscribe(j.ID)
	if live {
		defer unsubscribe()
	} else {
		history = s.metricEvents(j.ID)
	}
	job := newJobJSON(j)
	if es.send(jobEvent{Type: "job", Job: &job}) != nil {
		return
	}
	for _, e := range history {
		if es.send(e) != nil {
			return
		}
	}
	if !live {
		es.send(jobEvent{Type: "state", State: j.State, Error: j.Error})
		es.done()
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	// A stream follows a job for as long as it runs; it ends when the
	// server starts shutting down, so that shutdown does not wait for it.
	drain := time.NewTicker(250 * time.Millisecond)
	defer drain.Stop()
	for {
		select {
		case <-drain.C:
			if s.draining.Load() {
				return
			}
		case e, open := <-ch:
			if !open {
				es.done()
				return
			}
			if es.send(e) != nil {
				return
			}
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || es.flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// metricEvents reads a finished job's steps from its metrics file.
func (s *Server) metricEvents(id string) []jobEvent {
	raw, err := os.ReadFile(filepath.Join(s.jobDir(id), "out", trainMetricsName))
	if err != nil {
		return nil
	}
	var out []jobEvent
	for _, line := range bytes.Split(raw, []byte("\n")) {
		var m struct {
			Step    int      `json:"step"`
			Loss    float64  `json:"loss"`
			LR      float64  `json:"lr"`
			ValLoss *float64 `json:"val_loss"`
		}
		if json.Unmarshal(line, &m) != nil {
			continue
		}
		out = append(out, jobEvent{Type: "step", Step: m.Step, Loss: m.Loss, LR: m.LR})
		if m.ValLoss != nil {
			out = append(out, jobEvent{Type: "eval", Step: m.Step, ValLoss: *m.ValLoss})
		}
	}
	return out
}
