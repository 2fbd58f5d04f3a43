package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAuth walks a server from no keys (anonymous admin) to keys: every
// protected request then needs a valid key; public paths do not; revoked
// and unknown keys get 401; the identity reaches the handlers.
func TestAuth(t *testing.T) {
	ctx := context.Background()
	s, ts := gwServer(t, gwEchoConfig(&gwEcho{}))
	s.mux.HandleFunc("GET /api/whoami", func(w http.ResponseWriter, r *http.Request) {
		name, admin := Identity(r.Context())
		writeJSON(w, http.StatusOK, map[string]any{"name": name, "admin": admin})
	})
	s.mux.HandleFunc("GET /ui/app.js", func(w http.ResponseWriter, r *http.Request) {
		name, admin := Identity(r.Context())
		w.Write([]byte(name + strconv.FormatBool(admin)))
	})
	if status, _, body := gwDo(t, "GET", ts.URL+"/api/whoami", "", nil); status != 200 || string(body) != `{"admin":true,"name":""}`+"\n" {
		t.Fatalf("no keys: %d %s", status, body)
	}

	admin, _, err := s.cfg.Store.CreateKey(ctx, "root", "admin")
	if err != nil {
		t.Fatal(err)
	}
	user, _, _ := s.cfg.Store.CreateKey(ctx, "alice", "user")
	revoked, _, _ := s.cfg.Store.CreateKey(ctx, "bob", "user")
	if _, err := s.cfg.Store.RevokeKey(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(keyCacheTTL) // let the server see the keys

	for _, tc := range []struct {
		method, path, auth string
		status             int
		body               string
	}{
		{"GET", "/api/whoami", "", 401, "requires an API key"},
		{"GET", "/api/whoami", "Bearer " + admin, 200, `{"admin":true,"name":"root"}`},
		{"GET", "/api/whoami", "bearer " + user, 200, `{"admin":false,"name":"alice"}`},
		{"GET", "/api/whoami", "Basic " + user, 401, "requires an API key"},
		{"GET", "/api/whoami", "Bearer", 401, "requires an API key"},
		{"GET", "/api/whoami", "Bearer " + user + "x", 401, "invalid API key"},
		{"GET", "/api/whoami", "Bearer " + revoked, 401, `(\"bob\") was revoked`},
		{"GET", "/v1/models", "", 401, "requires an API key"},
		{"POST", "/v1/chat/completions", "", 401, "requires an API key"},
		{"GET", "/v1/nothing", "", 401, "requires an API key"},
		{"GET", "/metrics", "", 401, "requires an API key"},
		{"GET", "/metrics", "Bearer " + user, 200, "flywheel_queue_depth"},
		{"GET", "/v1/models", "Bearer " + user, 200, `"id":"tiny"`},
		{"GET", "/healthz", "", 200, `"ok"`},
		{"GET", "/readyz", "Bearer nonsense", 200, `"ready"`},
		{"GET", "/ui/app.js", "", 200, "false"},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 64<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(b.String(), tc.body) {
			t.Errorf("%s %s (%.12s): %d %.200s, want %d with %q", tc.method, tc.path, tc.auth, resp.StatusCode, b.String(), tc.status, tc.body)
		}
		if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tc.path)
		}
	}
}

func TestRateLimit(t *testing.T) {
	ctx := context.Background()
	cfg := gwEchoConfig(&gwEcho{})
	cfg.Limits = Limits{Rate: 1, Burst: 3}
	s, ts := gwServer(t, cfg)
	a, _, _ := s.cfg.Store.CreateKey(ctx, "a", "user")
	b, _, _ := s.cfg.Store.CreateKey(ctx, "b", "user")
	var codes []int
	for range 4 {
		status, h, body := gwDo(t, "GET", ts.URL+"/v1/models", a, nil)
		codes = append(codes, status)
		if status == 429 {
			if ra, _ := strconv.Atoi(h.Get("Retry-After")); ra != 1 || !strings.Contains(string(body), `rate limit of API key \"a\"`) {
				t.Errorf("429 with Retry-After %q: %s", h.Get("Retry-After"), body)
			}
		}
	}
	if status, _, _ := gwDo(t, "GET", ts.URL+"/v1/models", b, nil); status != 200 {
		t.Errorf("key b is limited by key a's requests: %d", status)
	}
	if codes[2] != 200 || codes[3] != 429 {
		t.Fatalf("burst of 3: %v", codes)
	}
}

func TestRateLimiter(t *testing.T) {
	l := newRateLimiter(2, 2)
	t0 := time.Unix(1000, 0)
	for i, step := range []struct {
		at   time.Duration
		ok   bool
		wait time.Duration
	}{
		{0, true, 0}, {0, true, 0}, {0, false, 500 * time.Millisecond},
		{250 * time.Millisecond, false, 250 * time.Millisecond},
		{500 * time.Millisecond, true, 0}, {500 * time.Millisecond, false, 500 * time.Millisecond},
		{10 * time.Second, true, 0}, {10 * time.Second, true, 0}, {10 * time.Second, false, 500 * time.Millisecond},
	} {
		ok, wait := l.allow("k", t0.Add(step.at))
		if ok != step.ok || wait.Round(time.Millisecond) != step.wait {
			t.Errorf("step %d at %v: %v %v, want %v %v", i, step.at, ok, wait, step.ok, step.wait)
		}
	}
	if ok, _ := newRateLimiter(-1, 0).allow("k", t0); !ok {
		t.Error("a negative rate limits")
	}
}

func TestListenRefusesOpenAddressWithoutKeys(t *testing.T) {
	ctx := context.Background()
	s, _ := gwServer(t, Config{})
	ln, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if _, err := s.Listen(ctx, "0.0.0.0:0"); err == nil || !strings.Contains(err.Error(), "with no API key") || !strings.Contains(err.Error(), "flywheel keys create --data-dir") {
		t.Fatalf("0.0.0.0 without keys: %v", err)
	}
	s.cfg.Store.CreateKey(ctx, "k", "admin")
	ln, err = s.Listen(ctx, "0.0.0.0:0")
	if err != nil {
		t.Fatalf("0.0.0.0 with a key: %v", err)
	}
	ln.Close()
}
