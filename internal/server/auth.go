package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"flywheel/internal/store"
)

// identity is who made a request: an API key's name and whether it is an
// admin key.
type identity struct {
	name  string
	admin bool
}

type identityKey struct{}

// withIdentity returns ctx carrying the caller's identity.
func withIdentity(ctx context.Context, id identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// Identity returns the name of the API key that made the request in ctx
// and whether it has the admin scope. On a server without keys every
// request is an anonymous admin: ("", true); so is a context that did not
// come through Handler. Once keys exist, the public paths (health probes,
// the UI's static files) run as ("", false).
func Identity(ctx context.Context) (name string, admin bool) {
	id, ok := ctx.Value(identityKey{}).(identity)
	if !ok {
		return "", true
	}
	return id.name, id.admin
}

// protected reports whether a request needs an API key (once keys exist):
// the gateway, the application API and the metrics, by path or by the
// route that serves it. Health probes and the UI's files are public.
func protected(path, route string) bool {
	_, routePath, _ := strings.Cut(route, " ")
	if routePath == "" {
		routePath = route
	}
	for _, p := range []string{path, routePath} {
		if p == "/metrics" || p == "/v1" || p == "/api" || strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/api/") {
			return true
		}
	}
	return false
}

// authenticate puts the caller's identity in the request context. Once
// one API key exists, a protected request needs a valid one in
// "Authorization: Bearer KEY" (401 otherwise) and is rate-limited per key
// (429 with Retry-After).
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		required, err := s.keys.required(ctx)
		if !protected(r.URL.Path, routeOf(ctx)) {
			// public even when the store fails (health probes)
			next.ServeHTTP(w, r.WithContext(withIdentity(ctx, identity{admin: err == nil && !required})))
			return
		}
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "checking API keys: "+err.Error())
			return
		}
		if !required {
			next.ServeHTTP(w, r.WithContext(withIdentity(ctx, identity{admin: true})))
			return
		}
		key, status, msg := s.checkKey(ctx, r.Header.Get("Authorization"))
		if status != 0 {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="flywheel"`)
			}
			writeError(w, status, msg)
			return
		}
		setKeyName(ctx, key.Name)
		if ok, wait := s.limiter.allow(key.Name, time.Now()); !ok {
			s.metrics.rateLimited.Add(1)
			writeRetryAfter(w, int(math.Ceil(wait.Seconds())), fmt.Sprintf("rate limit of API key %q exceeded: retry after the time in the Retry-After header", key.Name))
			return
		}
		next.ServeHTTP(w, r.WithContext(withIdentity(ctx, identity{name: key.Name, admin: key.Admin()})))
	})
}

// checkKey finds the key of an Authorization header, or says with which
// status and message to refuse the request.
func (s *Server) checkKey(ctx context.Context, header string) (key store.APIKey, status int, msg string) {
	scheme, secret, _ := strings.Cut(header, " ")
	secret = strings.TrimSpace(secret)
	if header == "" || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return key, http.StatusUnauthorized, "this server requires an API key: send the header \"Authorization: Bearer KEY\" (an admin creates keys with `flywheel keys create`)"
	}
	key, err := s.keys.lookup(ctx, secret)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return key, http.StatusUnauthorized, "invalid API key: check the key you send (a key is shown once, by `flywheel keys create`)"
	case err != nil:
		return key, http.StatusServiceUnavailable, "checking the API key: " + err.Error()
	case !key.Revoked.IsZero():
		return key, http.StatusUnauthorized, fmt.Sprintf("API key %s… (%q) was revoked on %s: ask an admin for a new key", key.Prefix, key.Name, key.Revoked.Format(time.DateOnly))
	}
	return key, 0, ""
}

// keyCacheTTL is how long the server trusts what it read about keys: a
// key created or revoked on the command line takes effect within it.
const keyCacheTTL = 2 * time.Second

// keyring reads API keys from the store, caching what it read for
// keyCacheTTL so that a request costs no query.
type keyring struct {
	store *store.Store

	mu      sync.Mutex
	count   int // keys in the store, revoked included
	countAt time.Time
	byHash  map[string]cachedKey // valid lookups only
}

type cachedKey struct {
	key store.APIKey
	at  time.Time
}

func newKeyring(st *store.Store) *keyring {
	return &keyring{store: st, byHash: map[string]cachedKey{}}
}

// required reports whether requests need a key: whether any key was ever
// created (revoking every key does not open the server).
func (k *keyring) required(ctx context.Context) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.count > 0 || time.Since(k.countAt) < keyCacheTTL {
		return k.count > 0, nil // keys never disappear
	}
	n, err := k.store.KeyCount(ctx)
	if err != nil {
		return false, err
	}
	k.count, k.countAt = n, time.Now()
	return n > 0, nil
}

// lookup finds the key a client sent.
func (k *keyring) lookup(ctx context.Context, secret string) (store.APIKey, error) {
	hash := store.HashKey(secret)
	k.mu.Lock()
	c, ok := k.byHash[hash]
	k.mu.Unlock()
	if ok && time.Since(c.at) < keyCacheTTL {
		return c.key, nil
	}
	key, err := k.store.KeyBySecret(ctx, secret)
	if err != nil {
		return key, err
	}
	k.mu.Lock()
	k.byHash[hash] = cachedKey{key, time.Now()}
	k.mu.Unlock()
	return key, nil
}

// rateLimiter is a token bucket per API key: rate requests per second on
// average, burst at once.
type rateLimiter struct {
	rate, burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// newRateLimiter limits each key to rate requests per second (< 0: no
// limit) in bursts of up to burst.
func newRateLimiter(rate float64, burst int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket at now, or says how long until
// one is there.
func (l *rateLimiter) allow(key string, now time.Time) (ok bool, wait time.Duration) {
	if l.rate < 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}
