package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"flywheel/internal/store"
)

// TestServeFeedbackSurvivesKill kills (SIGKILL) a server while clients
// post feedback, then checks that every feedback row the server
// acknowledged (201 with its ID) is in the store, that the store passes
// SQLite's integrity check, and that a restarted server lists the rows.
func TestServeFeedbackSurvivesKill(t *testing.T) {
	data := t.TempDir()
	srv, url := startServe(t, "--data-dir", data, "--addr", "127.0.0.1:0", "--rate", "-1", "--log-level", "warn")
	answerID := killTestAnswer(t, url)

	var mu sync.Mutex
	acked := map[int64]bool{}
	killed := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-killed:
					return
				default:
				}
				body := fmt.Sprintf(`{"answer_id":%q,"rating":%d,"correction":"client %d row %d","tags":["kill"]}`, answerID, 1+i%5, c, i)
				status, resp, err := post(url+"/api/feedback", "application/json", []byte(body))
				if err != nil {
					continue // the server is gone: the outcome is unknown, not acknowledged
				}
				var fb struct{ ID int64 }
				if status == http.StatusCreated && json.Unmarshal(resp, &fb) == nil && fb.ID > 0 {
					mu.Lock()
					acked[fb.ID] = true
					mu.Unlock()
				} else if status != http.StatusCreated {
					t.Errorf("feedback: %d %s", status, resp)
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d feedback rows acknowledged in 20 s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.cmd.Process.Signal(syscall.SIGKILL)
	close(killed)
	wg.Wait()
	srv.cmd.Wait()
	if ws, ok := srv.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the server was not killed: %v", srv.cmd.ProcessState)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "flywheel.db"))
	if err != nil {
		t.Fatal(err)
	}
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity check: %q %v", integrity, err)
	}
	db.Close()
	ctx := context.Background()
	st, err := store.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.FeedbackRecords(ctx, store.FeedbackQuery{AnyOwner: true})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]bool{}
	for _, r := range rows {
		stored[r.ID] = true
	}
	for id := range acked {
		if !stored[id] {
			t.Fatalf("acknowledged feedback %d was lost (%d of %d acknowledged rows stored)", id, len(stored), len(acked))
		}
	}
	t.Logf("killed after %d acknowledged feedback rows; %d stored", len(acked), len(stored))

	srv, url = startServe(t, "--data-dir", data, "--addr", "127.0.0.1:0", "--rate", "-1", "--log-level", "warn")
	status, body := httpDo(t, "GET", url+"/api/feedback?limit=1000&tag=kill", "", "")
	var list struct{ Feedback []json.RawMessage }
	if err := json.Unmarshal([]byte(body), &list); status != 200 || err != nil || len(list.Feedback) != min(len(stored), 1000) {
		t.Fatalf("after the restart: %d, %d rows listed of %d: %.300s", status, len(list.Feedback), len(stored), body)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("restarted server: %v\n%s", err, srv.stderr.String())
	}
}

// killTestAnswer makes a collection with one document through the API,
// asks a question and returns the answer's ID.
func killTestAnswer(t *testing.T, url string) string {
	t.Helper()
	if status, body := httpDo(t, "POST", url+"/api/collections", "", `{"name":"docs"}`); status != 201 {
		t.Fatalf("collection: %d %s", status, body)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "lighthouse.md")
	io.WriteString(fw, "# Lighthouses\n\nThe Pharos of Alexandria was a lighthouse built in the third century BC. It stood about 100 metres tall.\n")
	mw.Close()
	if status, body, err := post(url+"/api/collections/docs/documents", mw.FormDataContentType(), form.Bytes()); err != nil || status != 201 {
		t.Fatalf("upload: %d %s %v", status, body, err)
	}
	status, body := httpDo(t, "POST", url+"/api/ask", "", `{"collection":"docs","question":"How tall was the Pharos of Alexandria?"}`)
	var a struct {
		AnswerID string `json:"answer_id"`
	}
	if err := json.Unmarshal([]byte(body), &a); status != 200 || err != nil || a.AnswerID == "" {
		t.Fatalf("ask: %d %s", status, body)
	}
	return a.AnswerID
}

func post(url, contentType string, body []byte) (int, []byte, error) {
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
