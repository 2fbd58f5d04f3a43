package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"flywheel/internal/store"
)

// chromium finds a headless-capable Chromium: skipped when there is
// none, a failure under CI.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium): skipping the browser test")
	return ""
}

// TestUIFlow drives the web UI in headless Chromium as a user with an API
// key: create a collection, upload a document, ask, open the citation's
// passage, rate the answer, and find the rating on the feedback page.
func TestUIFlow(t *testing.T) {
	exe := chromium(t)
	e := newAppEnv(t, Config{}, "alice:user")
	doc := filepath.Join(t.TempDir(), "eiffel.md")
	if err := os.WriteFile(doc, []byte(appDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	wait := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))
	}
	text := func(sel string, into *string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			var err error
			*into, err = chromedp.Text(chromedp.CSS(sel))(ctx, tg)
			return chromedp.Void{}, err
		}
	}
	var answer, passage, rated, row string
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.ts.URL),
		chromedp.WaitVisible(chromedp.ID("api-key")),
		chromedp.SendKeys(chromedp.ID("api-key"), e.keys["alice"]),
		chromedp.Click(chromedp.CSS("#key-form button")),
		chromedp.SendKeys(chromedp.ID("new-collection"), "docs"),
		chromedp.Click(chromedp.ID("create-collection")),
		wait(`document.querySelector("#collection-select").value === "docs"`),

		chromedp.Click(chromedp.ID("tab-documents")),
		chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{doc}),
		chromedp.Click(chromedp.ID("upload-button")),
		wait(`document.querySelector("#upload-status").textContent.includes("chunks indexed")`),
		wait(`document.querySelector("#upload-progress").value === 100`),
		wait(`document.querySelectorAll("#documents-table tbody tr").length === 1`),

		chromedp.Click(chromedp.ID("tab-chat")),
		chromedp.SendKeys(chromedp.ID("question"), "How tall is the Eiffel Tower?"),
		chromedp.Click(chromedp.ID("ask-button")),
		chromedp.WaitVisible(chromedp.CSS(".turn .citation")),
		text(".turn .answer-text", &answer),
		chromedp.Click(chromedp.CSS(".turn .citation")),
		chromedp.WaitVisible(chromedp.CSS("#source-view mark")),
		text("#source-view mark", &passage),

		chromedp.Click(chromedp.CSS(".turn .thumbs-up")),
		wait(`document.querySelector(".turn .rated").textContent.includes("rated")`),
		text(".turn .rated", &rated),
	)
	if dir := os.Getenv("FLYWHEEL_UI_SCREENSHOTS"); dir != "" {
		screenshot(ctx, t, filepath.Join(dir, "chat.png"))
	}
	if err == nil {
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("tab-feedback")),
			wait(`document.querySelectorAll("#feedback-table tbody tr").length === 1`),
			text("#feedback-table tbody tr", &row),
		)
	}
	if dir := os.Getenv("FLYWHEEL_UI_SCREENSHOTS"); dir != "" {
		screenshot(ctx, t, filepath.Join(dir, "feedback.png"))
	}
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if !strings.Contains(answer, "330 metres") {
		t.Errorf("answer %q", answer)
	}
	if !strings.Contains(appDoc, passage) || !strings.Contains(passage, "330 metres") {
		t.Errorf("the citation opened %q", passage)
	}
	if !strings.Contains(rated, "rated 5/5") {
		t.Errorf("after thumbs up: %q", rated)
	}
	if !strings.Contains(row, "How tall is the Eiffel Tower?") || !strings.Contains(row, "(5)") {
		t.Errorf("feedback page row %q", row)
	}
	rows, err := e.st.FeedbackRecords(context.Background(), store.FeedbackQuery{Owner: "alice"})
	if err != nil || len(rows) != 1 || rows[0].Rating != 5 || rows[0].Answer.Collection != "docs" {
		t.Fatalf("stored feedback %+v %v", rows, err)
	}
}

func screenshot(ctx context.Context, t *testing.T, path string) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	os.WriteFile(path, png, 0o644)
}

// TestUIJobsAndEvals opens the fine-tuning page on a finished run (its
// loss curve drawn from the replayed steps) and the evaluations page (a
// report opened in its frame).
func TestUIJobsAndEvals(t *testing.T) {
	exe := chromium(t)
	e, data := jobsEnv(t)
	var j jobJSON
	st, b := e.do("root", "POST", "/api/jobs", map[string]any{"model": "stories", "data": data,
		"options": map[string]any{"max_steps": 12, "batch": 2, "lora_rank": 2}})
	e.must(st, b, 201, &j)
	s := e.follow(t, "root", j.ID)
	s.until(func(ev jobEvent) bool { return ev.final() })
	run := filepath.Join(e.st.Dir(), "evals", "run1")
	os.MkdirAll(run, 0o755)
	os.WriteFile(filepath.Join(run, "report.json"), []byte(`{"schema":"flywheel.eval.report/1","created":"2026-03-01T10:00:00Z","examples":3,"baseline":"base",
		"variants":[{"name":"base","metrics":[{"metric":"squad_f1","score":50}]},{"name":"tuned","metrics":[{"metric":"squad_f1","score":61}]}]}`), 0o644)
	os.WriteFile(filepath.Join(run, "report.html"), []byte(`<!doctype html><style>h1{color:#a00}</style><h1 id="r">Report of run1</h1>`), 0o644)

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
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.ts.URL),
		chromedp.SendKeys(chromedp.ID("api-key"), e.keys["root"]),
		chromedp.Click(chromedp.CSS("#key-form button")),
		chromedp.Click(chromedp.ID("tab-jobs")),
		wait(`document.querySelector("#jobs-table tbody tr .job-state")?.textContent === "done"`),
		chromedp.Click(chromedp.CSS("#jobs-table tbody tr button")),
		wait(`(document.querySelector("#loss-chart polyline")?.getAttribute("points") || "").split(" ").length === 12`),
		wait(`document.querySelector("#job-status").textContent === "done"`),
	)
	if dir := os.Getenv("FLYWHEEL_UI_SCREENSHOTS"); dir != "" {
		screenshot(ctx, t, filepath.Join(dir, "jobs.png"))
	}
	if err != nil {
		t.Fatalf("jobs page: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("tab-evals")),
		wait(`document.querySelector("#evals-table tbody tr td")?.textContent === "run1"`),
		chromedp.Click(chromedp.CSS("#evals-table tbody tr button")),
		wait(`(document.querySelector("#eval-frame").srcdoc || "").includes("Report of run1")`),
	)
	if dir := os.Getenv("FLYWHEEL_UI_SCREENSHOTS"); dir != "" {
		screenshot(ctx, t, filepath.Join(dir, "evals.png"))
	}
	if err != nil {
		t.Fatalf("evaluations page: %v", err)
	}
}
