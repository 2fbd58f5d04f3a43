package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"flywheel/internal/llm"
	"flywheel/internal/store"
)

func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	yamlFile := filepath.Join(dir, "flywheel.yaml")
	os.WriteFile(yamlFile, []byte("# team server\ndata_dir: /srv/fw\naddr: 0.0.0.0:9000\nmodel: m.gguf\nlora: [a=1, b=2]\nrate: 2.5\nshutdown_timeout: 5s\n"), 0o644)
	jsonFile := filepath.Join(dir, "flywheel.json")
	os.WriteFile(jsonFile, []byte(`{"data_dir": "/y", "workers": 2, "llm_url": "http://up/v1", "llm_model": "gpt"}`), 0o644)
	badFile := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badFile, []byte("addr: x\nmodle: m.gguf\n"), 0o644)

	want := defaultServeConfig()
	want.DataDir, want.Addr, want.Model, want.LoRA, want.Rate, want.ShutdownTimeout = "/srv/fw", "127.0.0.1:1", "m.gguf", []string{"c=3"}, 2.5, 5*time.Second
	got, err := parseServeConfig([]string{"--config", yamlFile, "--addr", "127.0.0.1:1", "--lora", "c=3"}, io.Discard)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("yaml + flags:\n got %+v %v\nwant %+v", got, err, want)
	}
	want = defaultServeConfig()
	want.DataDir, want.Workers, want.LLMURL, want.LLMModel, want.LoRA = "/y", 2, "http://up/v1", "gpt", nil
	if got, err := parseServeConfig([]string{"--config", jsonFile}, io.Discard); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("json:\n got %+v %v\nwant %+v", got, err, want)
	}
	if got, err := parseServeConfig(nil, io.Discard); err != nil || !reflect.DeepEqual(got, defaultServeConfig()) || got.Addr != "127.0.0.1:8080" || got.DataDir != "flywheel-data" {
		t.Fatalf("defaults: %+v %v", got, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", badFile}, "line 2: field modle not found"},
		{[]string{"--config", filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{"--workers", "many"}, "invalid value"},
		{[]string{"stray"}, `unexpected argument "stray"`},
	} {
		if _, err := parseServeConfig(tc.args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--data-dir", t.TempDir(), "--addr", "0.0.0.0:0"}, "refusing to listen on 0.0.0.0:0"},
		{[]string{"serve", "--data-dir", t.TempDir(), "--lora", "a=b"}, "--lora needs --model"},
		{[]string{"serve", "--data-dir", t.TempDir(), "--llm-url", "http://x"}, "needs a URL and a model name"},
		{[]string{"serve", "--data-dir", t.TempDir(), "--log-level", "loud"}, `--log-level "loud"`},
	} {
		if _, _, err := flywheel(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestServeChild is the child process of the serve tests: it runs the
// command line in FLYWHEEL_SERVE_CHILD (one argument a line).
func TestServeChild(t *testing.T) {
	args := os.Getenv("FLYWHEEL_SERVE_CHILD")
	if args == "" {
		t.Skip("run by the serve tests")
	}
	if err := run(context.Background(), strings.Split(args, "\n"), os.Stdout, os.Stderr); err != nil {
		t.Fatal(err)
	}
}

// TestKeysWriterChild creates API keys in FLYWHEEL_KEYS_WRITER (a data
// directory) with `flywheel keys create` until it is killed, printing
// "NAME KEY" once each is acknowledged.
func TestKeysWriterChild(t *testing.T) {
	dir := os.Getenv("FLYWHEEL_KEYS_WRITER")
	if dir == "" {
		t.Skip("run by TestServeSurvivesKill")
	}
	for i := 0; ; i++ {
		name := fmt.Sprintf("k%d", i)
		var out bytes.Buffer
		if err := run(context.Background(), []string{"keys", "create", "--data-dir", dir, "--name", name, "--scope", "user"}, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s %s\n", name, strings.TrimSpace(out.String()))
	}
}

// child is a process running one of the child tests above.
type child struct {
	cmd    *exec.Cmd
	out    *bufio.Reader
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startChild(t *testing.T, test, env, value string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env+"="+value)
	c := &child{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.out = bufio.NewReader(pipe)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return c
}

var openLine = regexp.MustCompile(`open (http://\S+)/ in a browser`)

// startServe runs `flywheel serve args…` in a child and returns it and
// the URL it printed.
func startServe(t *testing.T, args ...string) (*child, string) {
	t.Helper()
	c := startChild(t, "TestServeChild", "FLYWHEEL_SERVE_CHILD", strings.Join(append([]string{"serve"}, args...), "\n"))
	for {
		line, err := c.out.ReadString('\n')
		if err != nil {
			t.Fatalf("serve printed no URL: %v\n%s", err, c.stderr.String())
		}
		if m := openLine.FindStringSubmatch(line); m != nil {
			return c, m[1]
		}
	}
}

func httpDo(t *testing.T, method, url, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeCommand runs `flywheel serve` with the stories260K model as a
// real process: it answers exactly as the engine does, asks for keys once
// one is created on the command line, and stops cleanly on SIGTERM.
func TestServeCommand(t *testing.T) {
	model := sharedData(t, "models/stories260K/stories260K-f32.gguf")
	data := t.TempDir()
	c, url := startServe(t, "--data-dir", data, "--addr", "127.0.0.1:0", "--model", model, "--threads", "1", "--log-level", "warn")

	if status, body := httpDo(t, "GET", url+"/v1/models", "", ""); status != 200 || !strings.Contains(body, `"id":"stories260K-f32"`) {
		t.Fatalf("models: %d %s", status, body)
	}
	local, err := llm.NewLocal(llm.LocalConfig{Model: model, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	msgs := []llm.Message{{Role: llm.RoleUser, Content: "Once upon a time"}}
	want, err := local.Chat(context.Background(), llm.Request{Messages: msgs, MaxTokens: 12}, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body := httpDo(t, "POST", url+"/v1/chat/completions", "", `{"model":"stories260K-f32","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":12,"temperature":0}`)
	var got struct {
		Choices []struct {
			Message      struct{ Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage llm.Usage
	}
	if err := json.Unmarshal([]byte(body), &got); status != 200 || err != nil || got.Choices[0].Message.Content != want.Text || got.Usage != want.Usage || got.Choices[0].FinishReason != "length" {
		t.Fatalf("chat: %d %s; the engine says %q %+v", status, body, want.Text, want.Usage)
	}

	key, _, err := flywheel(t, "keys", "create", "--data-dir", data, "--name", "ci", "--scope", "admin")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _ := httpDo(t, "GET", url+"/v1/models", "", "")
		if status == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("requests without a key still get %d after a key was created", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, body := httpDo(t, "GET", url+"/v1/models", strings.TrimSpace(key), ""); status != 200 {
		t.Fatalf("with the key: %d %s", status, body)
	}
	if status, _ := httpDo(t, "GET", url+"/healthz", "", ""); status != 200 {
		t.Fatalf("healthz needs a key: %d", status)
	}

	c.cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(c.out)
	if err := c.cmd.Wait(); err != nil || !strings.Contains(string(rest), "flywheel: stopped") {
		t.Fatalf("after SIGTERM: %v %q\n%s", err, rest, c.stderr.String())
	}
}

// TestServeSurvivesKill kills (SIGKILL) a serving server and a process
// creating API keys in the same store mid-write, while clients use the
// keys as they appear; then it checks the store: it passes SQLite's
// integrity check, holds every acknowledged key, and a restarted server
// accepts each of them.
func TestServeSurvivesKill(t *testing.T) {
	data := t.TempDir()
	srv, url := startServe(t, "--data-dir", data, "--addr", "127.0.0.1:0", "--rate", "-1", "--log-level", "warn")
	writer := startChild(t, "TestKeysWriterChild", "FLYWHEEL_KEYS_WRITER", data)
	lines := make(chan [2]string, 1024)
	go func() {
		defer close(lines)
		for {
			line, err := writer.out.ReadString('\n')
			if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[1], "fw_") {
				lines <- [2]string{f[0], f[1]}
			}
			if err != nil {
				return
			}
		}
	}()

	var mu sync.Mutex
	var keys []string
	acked := map[string]string{} // name → key, as the writer acknowledged
	var served, failed atomic.Int64
	killed := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-killed:
					return
				default:
				}
				mu.Lock()
				key := ""
				if len(keys) > 0 {
					key = keys[i%len(keys)]
				}
				mu.Unlock()
				if key == "" {
					time.Sleep(time.Millisecond)
					continue
				}
				req, _ := http.NewRequest("GET", url+"/v1/models", nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					continue // killed
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					served.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	add := func(l [2]string) {
		mu.Lock()
		defer mu.Unlock()
		acked[l[0]] = l[1]
		keys = append(keys, l[1])
	}
	deadline := time.After(20 * time.Second)
	for len(acked) < 60 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the writer stopped: %s", writer.stderr.String())
			}
			add(l)
		case <-deadline:
			t.Fatalf("only %d keys written in 20 s", len(acked))
		}
	}
	writer.cmd.Process.Signal(syscall.SIGKILL)
	srv.cmd.Process.Signal(syscall.SIGKILL)
	close(killed)
	wg.Wait()
	for l := range lines { // acknowledged before the kill, still in the pipe
		add(l)
	}
	for _, c := range []*child{writer, srv} {
		c.cmd.Wait()
		if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("a child was not killed: %v", c.cmd.ProcessState)
		}
	}
	if failed.Load() > 0 || served.Load() == 0 {
		t.Fatalf("before the kill %d requests with acknowledged keys were refused, %d served", failed.Load(), served.Load())
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
	for name, key := range acked {
		if k, err := st.KeyBySecret(ctx, key); err != nil || k.Name != name {
			t.Fatalf("acknowledged key %s: %+v %v", name, k, err)
		}
	}
	stored, _ := st.Keys(ctx)
	st.Close()
	t.Logf("killed after %d acknowledged keys (%d stored) and %d authenticated requests", len(acked), len(stored), served.Load())

	srv, url = startServe(t, "--data-dir", data, "--addr", "127.0.0.1:0", "--rate", "-1", "--log-level", "warn")
	for name, key := range acked {
		if status, body := httpDo(t, "GET", url+"/v1/models", key, ""); status != 200 {
			t.Fatalf("after the restart key %s gets %d %s", name, status, body)
		}
	}
	if status, _ := httpDo(t, "GET", url+"/v1/models", "fw_forged", ""); status != 401 {
		t.Fatalf("a forged key gets %d", status)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("restarted server: %v\n%s", err, srv.stderr.String())
	}
}
