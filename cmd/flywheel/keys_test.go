package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestKeysCommand(t *testing.T) {
	dir := t.TempDir()
	dd := []string{"--data-dir", dir}
	secret, stderr, err := flywheel(t, append([]string{"keys", "create", "--name", "ops", "--scope", "admin"}, dd...)...)
	if err != nil {
		t.Fatal(err, stderr)
	}
	secret = strings.TrimSpace(secret)
	if !strings.HasPrefix(secret, "fw_") || len(secret) != 46 || !strings.Contains(stderr, `created admin key "ops"`) || strings.Contains(stderr, secret) {
		t.Fatalf("create printed %q / %q", secret, stderr)
	}
	if _, _, err := flywheel(t, append([]string{"keys", "create", "--name", "alice"}, dd...)...); err != nil {
		t.Fatal(err)
	}
	if _, _, err := flywheel(t, append([]string{"keys", "revoke", "--name", "alice"}, dd...)...); err != nil {
		t.Fatal(err)
	}
	out, _, err := flywheel(t, append([]string{"keys", "list"}, dd...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "alice") || strings.HasSuffix(lines[1], "-") ||
		!strings.HasPrefix(lines[2], "ops") || !strings.Contains(lines[2], secret[:9]+"…") || !strings.HasSuffix(lines[2], "-") || strings.Contains(out, secret) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, _, _ = flywheel(t, append([]string{"keys", "list", "--json"}, dd...)...)
	var keys []struct {
		Name, Scope, Prefix string
		Revoked             *string
	}
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) != 2 || keys[0].Revoked == nil || keys[1].Revoked != nil || keys[1].Scope != "admin" {
		t.Fatalf("list --json: %v %s", err, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"keys", "create", "--name", "ops"}, "already exists"},
		{[]string{"keys", "create", "--name", "bob", "--scope", "root"}, `scope "root"`},
		{[]string{"keys", "create"}, "--name is required"},
		{[]string{"keys", "create", "--name", "a b"}, "key name"},
		{[]string{"keys", "revoke", "--name", "nobody"}, "not found"},
		{[]string{"keys", "rotate"}, `unknown action "rotate"`},
		{[]string{"keys", "list", "extra"}, `unexpected argument "extra"`},
	} {
		if _, _, err := flywheel(t, append(tc.args, dd...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
