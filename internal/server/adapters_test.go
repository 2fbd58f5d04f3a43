package server

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"flywheel/internal/llama"
	"flywheel/internal/llm"
	"flywheel/internal/lora"
	"flywheel/internal/refdata"
	"flywheel/internal/store"
)

// adaptersEnv serves stories260K as "stories" from a local engine (as
// flywheel serve --model does) with an admin key "root" and a user key
// "alice"; tune jobs may train it as "stories".
type adaptersEnv struct {
	*appEnv
	model string // the base model file
}

func newAdaptersEnv(t testing.TB) *adaptersEnv {
	t.Helper()
	model := refdata.Path(t, "models/stories260K/stories260K-f32.gguf")
	e := newAppEnv(t, adaptersConfig(t, model, "stories"), "root:admin", "alice:user")
	return &adaptersEnv{appEnv: e, model: model}
}

// adaptersConfig is the configuration flywheel serve --model gives a
// server: a local engine named base, serving and training model.
func adaptersConfig(t testing.TB, model, base string, preload ...string) Config {
	t.Helper()
	local, err := llm.NewLocal(llm.LocalConfig{Model: model, Name: base, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	for _, spec := range preload { // --lora NAME=PATH
		name, path, _ := strings.Cut(spec, "=")
		if err := local.LoadAdapter(name, path); err != nil {
			t.Fatal(err)
		}
	}
	return Config{Model: local, ModelNames: local.Models, Adapters: local,
		Tune: TuneConfig{Models: map[string]string{base: model}, Threads: 1}}
}

// randomAdapter writes a random LoRA adapter for model as PEFT and
// returns its directory: strong enough to change greedy completions.
func randomAdapter(t testing.TB, model string, seed uint64) string {
	t.Helper()
	m, err := llama.Load(model, llama.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := lora.New(m.Config.LoRAShape(), lora.Config{Rank: 4, Alpha: 8, Targets: lora.AllTargets()})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 5))
	for i := range a.Params {
		a.Params[i] = float32(r.NormFloat64() * 0.2)
	}
	dir := filepath.Join(t.TempDir(), "adapter")
	if err := a.SavePEFT(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tunedJob runs a short tune job to the end and returns its id.
func (e *adaptersEnv) tunedJob(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, name := range []string{"Lily", "Tom", "Ben", "Sue"} {
		rec, _ := json.Marshal(map[string]string{"instruction": "Who went to the park?", "output": name + " went to the park."})
		b.Write(append(rec, '\n'))
	}
	data := filepath.Join(t.TempDir(), "park.jsonl")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var j jobJSON
	st, body := e.do("root", "POST", "/api/jobs", map[string]any{"model": "stories", "data": data,
		"options": map[string]any{"max_steps": 2, "batch": 2, "lora_rank": 2, "lr": 0.05}})
	e.must(st, body, 201, &j)
	if end := e.follow(t, "root", j.ID).until(func(ev jobEvent) bool { return ev.final() }); end.State != jobDone {
		t.Fatalf("the tune job ended %+v", end)
	}
	return j.ID
}

// storeJob records a job without running it.
func (e *adaptersEnv) storeJob(t testing.TB, id, state, model string) {
	t.Helper()
	cfg, _ := json.Marshal(tuneRequest{Kind: "tune", Model: model, Data: "x.jsonl"})
	prog, _ := json.Marshal(jobProgress{Step: 1, Adapter: filepath.Join("jobs", id, "out", "adapter.gguf")})
	if _, err := e.st.CreateJob(context.Background(), store.Job{ID: id, Owner: "root", Kind: "tune", State: state, Config: cfg, Progress: prog}); err != nil {
		t.Fatal(err)
	}
}

type adapterList struct {
	Base     string
	Adapters []adapterJSON
}

func (e *adaptersEnv) adapters(as string) adapterList {
	e.t.Helper()
	var l adapterList
	st, b := e.do(as, "GET", "/api/adapters", nil)
	e.must(st, b, 200, &l)
	return l
}

// models lists GET /v1/models.
func (e *adaptersEnv) models() []string {
	e.t.Helper()
	var l struct{ Data []struct{ ID string } }
	st, b := e.do("alice", "GET", "/v1/models", nil)
	e.must(st, b, 200, &l)
	var out []string
	for _, m := range l.Data {
		out = append(out, m.ID)
	}
	return out
}

// complete asks /v1/chat/completions for a greedy completion by model
// and returns its text and the model that answered.
func (e *adaptersEnv) complete(model string) (text, answered string) {
	e.t.Helper()
	var resp struct {
		Model   string
		Choices []struct{ Message struct{ Content string } }
	}
	st, b := e.do("alice", "POST", "/v1/chat/completions", map[string]any{"model": model, "max_tokens": 24, "temperature": 0,
		"messages": []map[string]string{{"role": "user", "content": "Once upon a time"}}})
	e.must(st, b, 200, &resp)
	return resp.Choices[0].Message.Content, resp.Model
}

// TestAdaptersRefused: what the adapters API refuses, and why.
func TestAdaptersRefused(t *testing.T) {
	e := newAdaptersEnv(t)
	adapter := randomAdapter(t, e.model, 1)
	done := e.tunedJob(t)
	e.storeJob(t, "job_running", jobRunning, "stories")
	e.storeJob(t, "job_failed", jobFailed, "stories")
	e.storeJob(t, "job_gone", jobDone, "stories") // no adapter file
	e.storeJob(t, "job_other", jobDone, refdata.Path(t, "models/stories260K/stories260K.bin"))
	notAdapter := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notAdapter, []byte("not an adapter"), 0o644)
	cases := []struct {
		name, as, method, path string
		body                   any
		status                 int
		says                   string
	}{
		{"user promotes", "alice", "POST", "/api/adapters", map[string]string{"name": "a", "job": done}, 403, "admin key"},
		{"user unloads", "alice", "DELETE", "/api/adapters/a", nil, 403, "admin key"},
		{"no key", "", "GET", "/api/adapters", nil, 401, "API key"},
		{"no name", "root", "POST", "/api/adapters", map[string]string{"job": done}, 400, `"name" is missing`},
		{"path in name", "root", "POST", "/api/adapters", map[string]string{"name": "../a", "job": done}, 400, "letters, digits"},
		{"colon in name", "root", "POST", "/api/adapters", map[string]string{"name": "stories:a", "job": done}, 400, "letters, digits"},
		{"space in name", "root", "POST", "/api/adapters", map[string]string{"name": "my adapter", "job": done}, 400, "letters, digits"},
		{"long name", "root", "POST", "/api/adapters", map[string]string{"name": strings.Repeat("a", 65), "job": done}, 400, "up to 64"},
		{"base's name", "root", "POST", "/api/adapters", map[string]string{"name": "stories", "job": done}, 400, "base model's"},
		{"neither", "root", "POST", "/api/adapters", map[string]string{"name": "a"}, 400, `either "job"`},
		{"both", "root", "POST", "/api/adapters", map[string]string{"name": "a", "job": done, "path": adapter}, 400, `either "job"`},
		{"bad json", "root", "POST", "/api/adapters", []byte(`{"name": `), 400, "JSON"},
		{"unknown job", "root", "POST", "/api/adapters", map[string]string{"name": "a", "job": "job_nope"}, 404, `job "job_nope" not found`},
		{"running job", "root", "POST", "/api/adapters", map[string]string{"name": "a", "job": "job_running"}, 409, "is running: promote it once it is done"},
		{"failed job", "root", "POST", "/api/adapters", map[string]string{"name": "a", "job": "job_failed"}, 409, "is failed"},
		{"adapter file gone", "root", "POST", "/api/adapters", map[string]string{"name": "a", "job": "job_gone"}, 409, "is gone"},
		{"other base model", "root", "POST", "/api/adapters", map[string]string{"name": "a", "job": "job_other"}, 409, "not the served stories"},
		{"missing path", "root", "POST", "/api/adapters", map[string]string{"name": "a", "path": "/nonexistent/adapter.gguf"}, 400, "no such file"},
		{"device", "root", "POST", "/api/adapters", map[string]string{"name": "a", "path": os.DevNull}, 400, "no such file"},
		{"not an adapter", "root", "POST", "/api/adapters", map[string]string{"name": "a", "path": notAdapter}, 400, `adapter "a" was not loaded`},
		{"unload unknown", "root", "DELETE", "/api/adapters/nope", nil, 404, `adapter "nope" is not served`},
		{"wrong method", "root", "PUT", "/api/adapters", []byte(`{}`), 405, "GET or POST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(tc.as, tc.method, tc.path, tc.body)
			var resp struct{ Error struct{ Message string } }
			json.Unmarshal(b, &resp)
			if st != tc.status || !strings.Contains(resp.Error.Message, tc.says) {
				t.Errorf("%s %s: %d %s; want %d saying %q", tc.method, tc.path, st, b, tc.status, tc.says)
			}
		})
	}
	if l := e.adapters("alice"); len(l.Adapters) != 0 || l.Base != "stories" {
		t.Errorf("after refusals: %+v", l)
	}
	if _, err := os.Stat(filepath.Join(e.st.Dir(), adaptersFileName)); err == nil {
		t.Error("a refused promotion wrote adapters.json")
	}
}

// TestAdaptersNoLocalModel: without a local engine every endpoint says
// how to get one.
func TestAdaptersNoLocalModel(t *testing.T) {
	e := newAppEnv(t, Config{})
	for _, r := range []struct {
		method, path string
		body         any
	}{{"GET", "/api/adapters", nil}, {"POST", "/api/adapters", map[string]string{"name": "a", "path": "x"}}, {"DELETE", "/api/adapters/a", nil}} {
		st, b := e.do("", r.method, r.path, r.body)
		if st != 501 || !strings.Contains(string(b), "start with --model") {
			t.Errorf("%s %s: %d %s", r.method, r.path, st, b)
		}
	}
}

// TestAdaptersPromote promotes a tune job's adapter and a PEFT directory
// into the running server, serves them through /v1, unloads one, and
// restarts the server: the promoted adapters come back, except where a
// start-up adapter takes the name, and only over the same base model.
func TestAdaptersPromote(t *testing.T) {
	e := newAdaptersEnv(t)
	jobID := e.tunedJob(t)
	randA, randB := randomAdapter(t, e.model, 1), randomAdapter(t, e.model, 2)
	baseText, answered := e.complete("stories")
	if answered != "stories" {
		t.Fatalf("the base model answered as %q", answered)
	}

	var a adapterJSON
	st, b := e.do("root", "POST", "/api/adapters", map[string]string{"name": "tuned", "job": jobID})
	e.must(st, b, 201, &a)
	if a.Name != "tuned" || a.Model != "stories:tuned" || a.Source != jobID || a.LoadedAt.IsZero() {
		t.Fatalf("promoted from the job: %s", b)
	}
	st, b = e.do("root", "POST", "/api/adapters", map[string]string{"name": "rand", "path": randA})
	e.must(st, b, 201, &a)
	if a.Model != "stories:rand" || a.Source != randA {
		t.Fatalf("promoted from a path: %s", b)
	}
	if got, want := e.models(), []string{"stories", "stories:rand", "stories:tuned"}; !slices.Equal(got, want) {
		t.Errorf("/v1/models lists %v, want %v", got, want)
	}
	randText, answered := e.complete("stories:rand")
	if answered != "stories:rand" || randText == baseText {
		t.Errorf("stories:rand answered as %q: %q (the base model says %q)", answered, randText, baseText)
	}
	if _, answered := e.complete("stories:tuned"); answered != "stories:tuned" {
		t.Errorf("stories:tuned answered as %q", answered)
	}
	// promoting a name again replaces its adapter
	st, b = e.do("root", "POST", "/api/adapters", map[string]string{"name": "rand", "path": randB})
	e.must(st, b, 200, nil)
	if text, _ := e.complete("stories:rand"); text == randText {
		t.Errorf("stories:rand still answers with the first adapter after promoting another: %q", text)
	}
	randText, _ = e.complete("stories:rand")
	// alice reads the list
	l := e.adapters("alice")
	if len(l.Adapters) != 2 || l.Adapters[0].Name != "rand" || l.Adapters[0].Source != randB || l.Adapters[1].Source != jobID {
		t.Errorf("GET /api/adapters: %+v", l)
	}

	st, b = e.do("root", "POST", "/api/adapters", map[string]string{"name": "gone", "path": randA})
	e.must(st, b, 201, nil)
	st, b = e.do("root", "DELETE", "/api/adapters/gone", nil)
	e.must(st, b, 204, nil)
	if slices.Contains(e.models(), "stories:gone") {
		t.Error("/v1/models lists an unloaded adapter")
	}
	st, b = e.do("alice", "POST", "/v1/chat/completions", map[string]any{"model": "stories:gone", "messages": []map[string]string{{"role": "user", "content": "Hi"}}})
	e.must(st, b, 404, nil)
	st, b = e.do("root", "DELETE", "/api/adapters/gone", nil)
	e.must(st, b, 404, nil)

	// adapters.json: written atomically, the job's adapter relative to
	// the data directory
	entries, _ := os.ReadDir(e.st.Dir())
	for _, de := range entries {
		if strings.Contains(de.Name(), ".tmp") {
			t.Errorf("left behind %s", de.Name())
		}
	}
	raw, err := os.ReadFile(filepath.Join(e.st.Dir(), adaptersFileName))
	if err != nil {
		t.Fatal(err)
	}
	var f adaptersFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	want := []promotedAdapter{
		{Name: "tuned", Base: "stories", Path: filepath.Join("jobs", jobID, "out", "adapter.gguf"), Source: jobID},
		{Name: "rand", Base: "stories", Path: randB, Source: randB},
	}
	if f.Schema != adaptersSchema || len(f.Adapters) != len(want) {
		t.Fatalf("adapters.json:\n%s", raw)
	}
	for i, p := range f.Adapters {
		p.LoadedAt = want[i].LoadedAt
		if p != want[i] {
			t.Errorf("adapters.json entry %d: %+v, want %+v", i, p, want[i])
		}
	}

	// A restart loads them again; an adapter loaded at start-up (--lora
	// rand=…) keeps its name.
	restart := func(cfg Config) {
		t.Helper()
		e.s.Close()
		cfg.Store, cfg.Limits = e.st, Limits{Rate: -1}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		e.s = s // closed by newAppEnv's cleanup
		e.ts.Config.Handler = s.Handler()
	}
	restart(adaptersConfig(t, e.model, "stories", "rand="+randA))
	l = e.adapters("alice")
	if len(l.Adapters) != 2 || l.Adapters[0].Source != adapterSourceStartup || l.Adapters[1].Name != "tuned" || l.Adapters[1].Source != jobID {
		t.Errorf("after a restart: %+v", l)
	}
	if text, answered := e.complete("stories:rand"); text == randText || answered != "stories:rand" {
		t.Errorf("stories:rand after a restart with --lora rand: %q as %q; the promoted adapter said %q", text, answered, randText)
	}
	if got, want := e.models(), []string{"stories", "stories:rand", "stories:tuned"}; !slices.Equal(got, want) {
		t.Errorf("/v1/models after a restart lists %v, want %v", got, want)
	}
	// without the --lora, the promoted one comes back
	restart(adaptersConfig(t, e.model, "stories"))
	if text, _ := e.complete("stories:rand"); text != randText {
		t.Errorf("stories:rand after a restart: %q, want the promoted adapter's %q", text, randText)
	}
	// another base model loads none of them and keeps the file
	restart(adaptersConfig(t, e.model, "other"))
	if l := e.adapters("alice"); len(l.Adapters) != 0 || l.Base != "other" {
		t.Errorf("over another base model: %+v", l)
	}
	if after, _ := os.ReadFile(filepath.Join(e.st.Dir(), adaptersFileName)); string(after) != string(raw) {
		t.Errorf("adapters.json changed:\n%s", after)
	}
	// an adapter whose files are gone is not loaded; DELETE forgets it
	os.RemoveAll(randB)
	restart(adaptersConfig(t, e.model, "stories"))
	if l := e.adapters("alice"); len(l.Adapters) != 1 || l.Adapters[0].Name != "tuned" {
		t.Errorf("with rand's files gone: %+v", l)
	}
	st, b = e.do("root", "DELETE", "/api/adapters/rand", nil)
	e.must(st, b, 204, nil)
	raw, _ = os.ReadFile(filepath.Join(e.st.Dir(), adaptersFileName))
	if err := json.Unmarshal(raw, &f); err != nil || len(f.Adapters) != 1 || f.Adapters[0].Name != "tuned" {
		t.Errorf("adapters.json after forgetting rand:\n%s", raw)
	}
}

// FuzzPromoteAdapter posts arbitrary bodies to POST /api/adapters: no
// body may fail the server (5xx) or get a 4xx without a message.
func FuzzPromoteAdapter(f *testing.F) {
	e := newAdaptersEnv(f)
	adapter := randomAdapter(f, e.model, 1)
	e.storeJob(f, "job_running", jobRunning, "stories")
	e.storeJob(f, "job_gone", jobDone, "stories")
	for _, s := range []string{
		`{"name":"a","path":` + strconv.Quote(adapter) + `}`, `{"name":"a","job":"job_running"}`, `{"name":"a","job":"job_gone"}`,
		`{"name":"a","job":"job_nope"}`, `{"name":"../a","path":"/"}`, `{"name":"a","path":"/"}`, `{"name":"a"}`,
		`{"name":"stories","job":"x"}`, `{"name":5}`, `{`, `[]`, `null`, `{"name":"a","path":"` + os.DevNull + `"}`,
	} {
		f.Add([]byte(s))
	}
	h := e.s.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/adapters", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.keys["root"])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkFuzzResponse(t, "POST /api/adapters", body, rec)
	})
}

// TestUIPromote promotes a finished job's adapter from the fine-tuning
// page in headless Chromium, then unloads it.
func TestUIPromote(t *testing.T) {
	exe := chromium(t)
	e := newAdaptersEnv(t)
	jobID := e.tunedJob(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 800))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	wait := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))
	}
	var row string
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.ts.URL),
		chromedp.SendKeys(chromedp.ID("api-key"), e.keys["root"]),
		chromedp.Click(chromedp.CSS("#key-form button")),
		// the page's dialogs answer themselves: the name "tuned", then yes
		chromedp.Evaluate[chromedp.Void](`window.prompt = () => "tuned"; window.confirm = () => true;`),
		chromedp.Click(chromedp.ID("tab-jobs")),
		wait(`document.querySelector("#adapters-table tbody td")?.textContent.startsWith("No adapter is served over stories")`),
		chromedp.Click(chromedp.CSS("#jobs-table tbody tr button.promote")),
		wait(`document.querySelector("#adapters-table tbody tr.adapter-row td")?.textContent === "stories:tuned"`),
		func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			var err error
			row, err = chromedp.Text(chromedp.CSS("#adapters-table tbody tr.adapter-row"))(ctx, tg)
			return chromedp.Void{}, err
		},
	)
	if dir := os.Getenv("FLYWHEEL_UI_SCREENSHOTS"); dir != "" {
		screenshot(ctx, t, filepath.Join(dir, "adapters.png"))
	}
	if err != nil {
		t.Fatalf("promoting: %v", err)
	}
	if !strings.Contains(row, jobID) {
		t.Errorf("adapter row %q names no job %s", row, jobID)
	}
	if !slices.Contains(e.models(), "stories:tuned") {
		t.Errorf("/v1/models lists %v", e.models())
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#adapters-table button.unload")),
		wait(`document.querySelectorAll("#adapters-table tbody tr.adapter-row").length === 0`),
	)
	if err != nil {
		t.Fatalf("unloading: %v", err)
	}
	if slices.Contains(e.models(), "stories:tuned") {
		t.Errorf("/v1/models lists %v after unloading", e.models())
	}
}
