package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flywheel/internal/refdata"
	"flywheel/internal/store"
)

// jobsEnv is a server whose tune jobs may train stories260K (a real
// 260K-parameter model) as "stories", with an admin key "root" and a
// user key "alice", and a small training file.
func jobsEnv(t *testing.T) (*appEnv, string) {
	t.Helper()
	model := refdata.Path(t, "models/stories260K/stories260K-f32.gguf")
	e := newAppEnv(t, Config{Tune: TuneConfig{Models: map[string]string{"stories": model}, Threads: 1}}, "root:admin", "alice:user")
	var b strings.Builder
	for _, name := range []string{"Lily", "Tom", "Ben", "Sue", "Max", "Amy", "Sam", "Tim"} {
		rec, _ := json.Marshal(map[string]string{"instruction": "Who went to the park?", "output": name + " went to the park."})
		b.Write(append(rec, '\n'))
	}
	data := filepath.Join(t.TempDir(), "park.jsonl")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return e, data
}

// jobStream follows GET /api/jobs/{id}/events.
type jobStream struct {
	t    *testing.T
	resp *http.Response
	sc   *bufio.Scanner
}

func (e *appEnv) follow(t *testing.T, as, id string) *jobStream {
	t.Helper()
	req, _ := http.NewRequest("GET", e.ts.URL+"/api/jobs/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.keys[as])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &jobStream{t: t, resp: resp, sc: bufio.NewScanner(resp.Body)}
}

// next returns the next event, or ok false at [DONE].
func (s *jobStream) next() (ev jobEvent, ok bool) {
	s.t.Helper()
	for s.sc.Scan() {
		data, found := strings.CutPrefix(s.sc.Text(), "data: ")
		if !found {
			continue
		}
		if data == "[DONE]" {
			return ev, false
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			s.t.Fatalf("%v: %s", err, data)
		}
		return ev, true
	}
	s.t.Fatalf("the event stream ended without [DONE]: %v", s.sc.Err())
	return ev, false
}

// until reads events until one satisfies stop, failing on a final state
// other than want (when stop is never met).
func (s *jobStream) until(stop func(jobEvent) bool) jobEvent {
	s.t.Helper()
	for {
		ev, ok := s.next()
		if !ok {
			s.t.Fatal("the job's events ended first")
		}
		if stop(ev) {
			return ev
		}
		if ev.final() {
			s.t.Fatalf("the job ended: %+v", ev)
		}
	}
}

func (e *appEnv) job(as, id string) jobJSON {
	e.t.Helper()
	var j jobJSON
	st, b := e.do(as, "GET", "/api/jobs/"+id, nil)
	e.must(st, b, 200, &j)
	return j
}

// TestJobsTune fine-tunes stories260K for a few steps through the API,
// following the loss over server-sent events.
func TestJobsTune(t *testing.T) {
	e, data := jobsEnv(t)
	var j jobJSON
	st, b := e.do("root", "POST", "/api/jobs", map[string]any{"kind": "tune", "model": "stories", "data": data,
		"options": map[string]any{"max_steps": 6, "batch": 2, "save_every": 2, "lora_rank": 4}})
	e.must(st, b, 201, &j)
	if j.State != jobQueued || j.Config.Model != "stories" || j.Owner != "root" {
		t.Fatalf("created %s", b)
	}
	s := e.follow(t, "root", j.ID)
	first, _ := s.next()
	if first.Type != "job" || first.Job.ID != j.ID {
		t.Fatalf("first event %+v", first)
	}
	var steps []int
	for {
		ev, ok := s.next()
		if !ok {
			break
		}
		switch {
		case ev.Type == "step":
			steps = append(steps, ev.Step)
			if ev.Loss <= 0 || ev.Steps != 6 {
				t.Errorf("step event %+v", ev)
			}
		case ev.final() && ev.State != jobDone:
			t.Fatalf("the job ended %+v", ev)
		}
	}
	if len(steps) != 6 || steps[0] != 1 || steps[5] != 6 {
		t.Fatalf("steps %v", steps)
	}
	done := e.job("root", j.ID)
	if done.State != jobDone || done.Progress == nil || done.Progress.Step != 6 || done.Progress.Examples != 8 ||
		done.Progress.Adapter != filepath.Join("jobs", j.ID, "out", "adapter.gguf") {
		t.Fatalf("finished job %+v %+v", done, done.Progress)
	}
	if _, err := os.Stat(filepath.Join(e.st.Dir(), done.Progress.Adapter)); err != nil {
		t.Fatal(err)
	}
	// A finished job's events replay its steps from metrics.jsonl.
	replay := e.follow(t, "root", j.ID)
	replay.next()
	n := 0
	for ev, ok := replay.next(); ok; ev, ok = replay.next() {
		if ev.Type == "step" {
			n++
		}
	}
	if n != 6 {
		t.Errorf("replayed %d steps", n)
	}
	// alice sees none of root's jobs
	st, b = e.do("alice", "GET", "/api/jobs/"+j.ID, nil)
	e.must(st, b, 404, nil)
	var list struct{ Jobs []jobJSON }
	st, b = e.do("alice", "GET", "/api/jobs", nil)
	e.must(st, b, 200, &list)
	if len(list.Jobs) != 0 {
		t.Errorf("alice lists %s", b)
	}
	st, b = e.do("root", "POST", "/api/jobs/"+j.ID+"/cancel", nil)
	e.must(st, b, 409, nil)
}

// TestJobsCancelResume cancels a run, then resumes it from its
// checkpoint: the first step after resuming follows the last one saved.
func TestJobsCancelResume(t *testing.T) {
	e, data := jobsEnv(t)
	var j jobJSON
	st, b := e.do("root", "POST", "/api/jobs", map[string]any{"model": "stories", "data": data,
		"options": map[string]any{"max_steps": 100000, "batch": 2, "save_every": 1, "lora_rank": 4}})
	e.must(st, b, 201, &j)
	s := e.follow(t, "root", j.ID)
	s.until(func(ev jobEvent) bool { return ev.Type == "step" && ev.Step >= 3 })
	st, b = e.do("root", "POST", "/api/jobs/"+j.ID+"/cancel", nil)
	e.must(st, b, 202, nil)
	end := s.until(func(ev jobEvent) bool { return ev.Type == "state" && ev.State == jobCancelled })
	if !strings.Contains(end.Error, "resume") {
		t.Errorf("cancelled: %+v", end)
	}
	cancelled := e.job("root", j.ID)
	saved := cancelled.Progress.Step
	if cancelled.State != jobCancelled || saved < 3 {
		t.Fatalf("cancelled job %+v %+v", cancelled, cancelled.Progress)
	}

	st, b = e.do("root", "POST", "/api/jobs/"+j.ID+"/resume", nil)
	e.must(st, b, 202, nil)
	s = e.follow(t, "root", j.ID)
	resumed := s.until(func(ev jobEvent) bool { return ev.Type == "step" })
	if resumed.Step != saved+1 {
		t.Errorf("resumed at step %d; the checkpoint holds step %d", resumed.Step, saved)
	}
	st, b = e.do("root", "POST", "/api/jobs/"+j.ID+"/resume", nil)
	e.must(st, b, 409, nil) // running
	// Closing the server interrupts the run; a new server lists it as
	// interrupted and resumes it.
	e.s.Close()
	if j := e.job("root", j.ID); j.State != jobInterrupted {
		t.Fatalf("after Close: %+v", j)
	}
	s2, err := New(Config{Store: e.st, Tune: e.s.cfg.Tune, Limits: Limits{Rate: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	e.ts.Config.Handler = s2.Handler()
	st, b = e.do("root", "POST", "/api/jobs/"+j.ID+"/resume", nil)
	e.must(st, b, 202, nil)
	s = e.follow(t, "root", j.ID)
	again := s.until(func(ev jobEvent) bool { return ev.Type == "step" })
	if again.Step <= resumed.Step {
		t.Errorf("after the restart the run went on at step %d (it had reached %d)", again.Step, resumed.Step)
	}
}

// TestJobsInterruptedAtStart: a job the store shows running when a server
// starts (the last one was killed) is marked interrupted.
func TestJobsInterruptedAtStart(t *testing.T) {
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, j := range []store.Job{{ID: "job_a", Kind: "tune", State: jobRunning}, {ID: "job_b", Kind: "tune", State: jobQueued}, {ID: "job_c", Kind: "tune", State: jobDone}} {
		if _, err := st.CreateJob(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	jobs, err := st.Jobs(context.Background(), "", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		want := map[string]string{"job_a": jobInterrupted, "job_b": jobInterrupted, "job_c": jobDone}[j.ID]
		if j.State != want {
			t.Errorf("%s: %s, want %s", j.ID, j.State, want)
		}
	}
}

// TestJobsFromFeedback trains on a collection's feedback as a user key,
// naming a served model.
func TestJobsFromFeedback(t *testing.T) {
	e, _ := jobsEnv(t)
	e.collectionWithDoc("alice", "docs")
	var a askResult
	st, b := e.do("alice", "POST", "/api/ask", map[string]any{"collection": "docs", "question": "How tall is the tower?"})
	e.must(st, b, 200, &a)
	st, b = e.do("alice", "POST", "/api/feedback", map[string]any{"answer_id": a.AnswerID, "rating": 1, "correction": "330 m."})
	e.must(st, b, 201, nil)
	st, b = e.do("alice", "POST", "/api/jobs", map[string]any{"model": "/etc/passwd", "from_feedback": "docs"})
	e.must(st, b, 400, nil) // a user names served models only
	var j jobJSON
	st, b = e.do("alice", "POST", "/api/jobs", map[string]any{"model": "stories", "from_feedback": "docs",
		"options": map[string]any{"max_steps": 2, "batch": 1, "lora_rank": 2}})
	e.must(st, b, 201, &j)
	s := e.follow(t, "alice", j.ID)
	end := s.until(func(ev jobEvent) bool { return ev.final() })
	// The answer template's prompt is longer than stories260K's 512-token
	// context, so nothing is left to train: the job says so. (Models with
	// a real context train on it.)
	if end.State != jobFailed || !strings.Contains(end.Error, "no trained token within the first max-len tokens") {
		t.Errorf("job from feedback: %+v", end)
	}
	raw, err := os.ReadFile(filepath.Join(e.st.Dir(), "jobs", j.ID, "data.jsonl"))
	if err != nil || !strings.Contains(string(raw), "330 m.") {
		t.Fatalf("training data %s %v", raw, err)
	}
}
