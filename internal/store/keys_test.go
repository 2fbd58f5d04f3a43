package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestKeys(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if n, err := s.KeyCount(ctx); n != 0 || err != nil {
		t.Fatalf("a new store has %d keys (%v)", n, err)
	}
	admin, ka, err := s.CreateKey(ctx, "ops", ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	user, ku, err := s.CreateKey(ctx, "alice@example.com", ScopeUser)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(admin, "fw_") || len(admin) != 3+43 || admin == user {
		t.Fatalf("keys %q %q: want fw_ and 43 base64url characters, distinct", admin, user)
	}
	if ka.Prefix != admin[:9] || !ka.Admin() || ku.Admin() {
		t.Fatalf("key records %+v %+v", ka, ku)
	}

	for _, bad := range []struct{ name, scope, want string }{
		{"ops", ScopeUser, "already exists"},
		{"", ScopeUser, "key name"},
		{"a b", ScopeUser, "key name"},
		{strings.Repeat("x", 65), ScopeUser, "key name"},
		{"bob", "root", `scope "root"`},
	} {
		if _, _, err := s.CreateKey(ctx, bad.name, bad.scope); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("CreateKey(%q, %q): %v, want %q", bad.name, bad.scope, err, bad.want)
		}
	}

	got, err := s.KeyBySecret(ctx, user)
	if err != nil || got != ku {
		t.Fatalf("KeyBySecret(user) = %+v %v, want %+v", got, err, ku)
	}
	for _, bad := range []string{"", "fw_", admin + "x", admin[:len(admin)-1], HashKey(admin)} {
		if _, err := s.KeyBySecret(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("KeyBySecret(%q): %v, want not found", bad, err)
		}
	}

	rk, err := s.RevokeKey(ctx, "alice@example.com")
	if err != nil || rk.Revoked.IsZero() {
		t.Fatalf("revoke: %+v %v", rk, err)
	}
	again, err := s.RevokeKey(ctx, "alice@example.com")
	if err != nil || !again.Revoked.Equal(rk.Revoked) {
		t.Fatalf("revoking twice moved the time: %+v %v", again, err)
	}
	if _, err := s.RevokeKey(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke a missing key: %v", err)
	}
	if got, err := s.KeyBySecret(ctx, user); err != nil || got.Revoked.IsZero() {
		t.Fatalf("a revoked key looks valid: %+v %v", got, err)
	}

	list, err := s.Keys(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "alice@example.com" || list[1] != ka {
		t.Fatalf("Keys = %+v %v", list, err)
	}
	if n, err := s.KeyCount(ctx); n != 2 || err != nil {
		t.Fatalf("KeyCount = %d %v, want 2 (revoked keys count)", n, err)
	}
}
