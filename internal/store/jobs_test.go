package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestJobs(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for _, j := range []Job{
		{ID: "job_1", Owner: "alice", Kind: "tune", Config: json.RawMessage(`{"model":"m"}`), State: "running"},
		{ID: "job_2", Owner: "bob", Kind: "tune", State: "queued"},
		{ID: "job_3", Owner: "alice", Kind: "tune", State: "done"},
	} {
		if _, err := s.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateJob(ctx, Job{ID: "job_1"}); err == nil {
		t.Error("created a job ID twice")
	}
	if err := s.UpdateJob(ctx, "job_1", "running", json.RawMessage(`{"step":3}`), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateJob(ctx, "job_1", "running", nil, ""); err != nil { // progress kept
		t.Fatal(err)
	}
	j, err := s.Job(ctx, "job_1")
	if err != nil {
		t.Fatal(err)
	}
	if string(j.Config) != `{"model":"m"}` || string(j.Progress) != `{"step":3}` || j.State != "running" || j.Owner != "alice" {
		t.Fatalf("job %+v", j)
	}
	if err := s.UpdateJob(ctx, "job_9", "done", nil, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("updating a missing job: %v", err)
	}
	if _, err := s.Job(ctx, "job_9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("reading a missing job: %v", err)
	}
	n, err := s.ReplaceJobStates(ctx, []string{"running", "queued"}, "interrupted", "the server stopped")
	if err != nil || n != 2 {
		t.Fatalf("interrupted %d jobs: %v", n, err)
	}
	mine, err := s.Jobs(ctx, "alice", false)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.Jobs(ctx, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 2 || len(all) != 3 {
		t.Fatalf("alice has %d jobs, everyone %d", len(mine), len(all))
	}
	for _, j := range all {
		want := map[string]string{"job_1": "interrupted", "job_2": "interrupted", "job_3": "done"}[j.ID]
		if j.State != want || (want == "interrupted") != (j.Error == "the server stopped") {
			t.Errorf("%s: state %q error %q", j.ID, j.State, j.Error)
		}
	}
}
