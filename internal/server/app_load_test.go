package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"flywheel/internal/store"
)

// TestAppLoad runs 64 clients on loopback for FLYWHEEL_LOAD_SECONDS
// (default 5) asking questions and rating the answers. Every response
// must be 2xx or 429, and every feedback the server acknowledged must be
// in the store afterwards. It logs the p50/p99 latencies.
func TestAppLoad(t *testing.T) {
	seconds := 5.0
	if s := os.Getenv("FLYWHEEL_LOAD_SECONDS"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 || v > 600 {
			t.Fatalf("FLYWHEEL_LOAD_SECONDS=%q: give seconds, up to 600", s)
		}
		seconds = v
	}
	const clients = 64
	keys := []string{"root:admin"}
	for i := range 8 {
		keys = append(keys, fmt.Sprintf("user%d:user", i))
	}
	e := newAppEnv(t, Config{}, keys...)
	for i := range 8 {
		e.collectionWithDoc(fmt.Sprintf("user%d", i), fmt.Sprintf("docs%d", i))
	}
	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds*float64(time.Second)))
	defer cancel()
	results := make([]loadResult, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := c % 8
			l := &loadClient{client: client, url: e.ts.URL, key: e.keys[fmt.Sprintf("user%d", user)],
				coll: fmt.Sprintf("docs%d", user), rng: rand.New(rand.NewPCG(uint64(c), 7)), res: &results[c]}
			l.run(ctx)
		}()
	}
	wg.Wait()

	var total loadResult
	for _, r := range results {
		total.add(r)
	}
	for status, n := range total.statuses {
		if status/100 != 2 && status != http.StatusTooManyRequests {
			t.Errorf("%d responses with status %d, e.g. %s", n, status, total.samples[status])
		}
	}
	n, err := e.st.CountFeedback(context.Background(), store.FeedbackQuery{AnyOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(total.acked) {
		t.Errorf("the store holds %d feedback rows; the server acknowledged %d", n, len(total.acked))
	}
	rows, err := e.st.FeedbackRecords(context.Background(), store.FeedbackQuery{AnyOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]bool{}
	for _, r := range rows {
		stored[r.ID] = true
	}
	for _, id := range total.acked {
		if !stored[id] {
			t.Fatalf("acknowledged feedback %d is not in the store", id)
		}
	}
	t.Logf("%d clients for %.0f s: %d asks (p50 %s, p99 %s), %d feedback (p50 %s, p99 %s), %d × 429; %d feedback rows stored = acknowledged",
		clients, seconds, len(total.ask), pct(total.ask, 50), pct(total.ask, 99),
		len(total.feedback), pct(total.feedback, 50), pct(total.feedback, 99), total.statuses[429], n)
}

type loadResult struct {
	ask, feedback []time.Duration
	acked         []int64
	statuses      map[int]int
	samples       map[int]string
}

func (r *loadResult) add(o loadResult) {
	r.ask = append(r.ask, o.ask...)
	r.feedback = append(r.feedback, o.feedback...)
	r.acked = append(r.acked, o.acked...)
	if r.statuses == nil {
		r.statuses, r.samples = map[int]int{}, map[int]string{}
	}
	for s, n := range o.statuses {
		r.statuses[s] += n
		r.samples[s] = o.samples[s]
	}
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(10 * time.Microsecond)
}

var loadQuestions = []string{
	"How tall is the Eiffel Tower?", "Who designed the tower?", "When was it built?",
	"How many people visit every year?", "Can visitors take a lift?", "What is the tower made of?",
}

// loadClient asks and rates in a loop until ctx ends.
type loadClient struct {
	client         *http.Client
	url, key, coll string
	rng            *rand.Rand
	res            *loadResult
}

func (l *loadClient) run(ctx context.Context) {
	l.res.statuses, l.res.samples = map[int]int{}, map[int]string{}
	for ctx.Err() == nil {
		q := loadQuestions[l.rng.IntN(len(loadQuestions))]
		var a struct {
			AnswerID string `json:"answer_id"`
		}
		start := time.Now()
		status, ok := l.post(ctx, "/api/ask", map[string]any{"collection": l.coll, "question": q}, &a)
		if !ok {
			return
		}
		l.res.ask = append(l.res.ask, time.Since(start))
		if status != http.StatusOK {
			continue
		}
		for range 1 + l.rng.IntN(2) {
			var fb struct{ ID int64 }
			body := map[string]any{"answer_id": a.AnswerID, "rating": 1 + l.rng.IntN(5), "tags": []string{"load"}}
			if l.rng.IntN(4) == 0 {
				body["correction"] = "a corrected answer"
			}
			start := time.Now()
			status, ok := l.post(ctx, "/api/feedback", body, &fb)
			if !ok {
				return
			}
			l.res.feedback = append(l.res.feedback, time.Since(start))
			if status == http.StatusCreated {
				l.res.acked = append(l.res.acked, fb.ID)
			}
		}
	}
}

// post sends a request; ok is false when ctx ended first (the request's
// outcome is then unknown and not counted).
func (l *loadClient) post(ctx context.Context, path string, body, out any) (status int, ok bool) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", l.url+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.key)
	resp, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, false
		}
		l.res.statuses[-1]++
		l.res.samples[-1] = err.Error()
		return -1, true
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		l.res.statuses[-1]++
		l.res.samples[-1] = err.Error()
		return -1, true
	}
	l.res.statuses[resp.StatusCode]++
	if resp.StatusCode/100 != 2 {
		l.res.samples[resp.StatusCode] = string(b)
		return resp.StatusCode, true
	}
	json.Unmarshal(b, out)
	return resp.StatusCode, true
}
