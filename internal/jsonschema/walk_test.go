package jsonschema

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testSchemas returns the schemas of testdata/schemas by file name.
func testSchemas(t testing.TB) map[string]*Schema {
	t.Helper()
	files, err := filepath.Glob("testdata/schemas/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in testdata/schemas: %v", err)
	}
	out := map[string]*Schema{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Compile(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = s
	}
	return out
}

// walkDocument writes a document byte by byte, each byte drawn among
// those the matcher accepts; after budget bytes it only takes bytes that
// bring the end closer, as the generator does when tokens run out. On the
// way it checks that some byte always brings the end closer and that
// CanEnd agrees with Remaining.
func walkDocument(t *testing.T, m *Matcher, rng *rand.Rand, budget int) string {
	t.Helper()
	try := m.Clone()
	var doc []byte
	for !m.Done() {
		if m.CanEnd() != (m.Remaining() == 0) {
			t.Fatalf("after %q: CanEnd %v, Remaining %d", doc, m.CanEnd(), m.Remaining())
		}
		if m.CanEnd() && rng.IntN(4) == 0 {
			break
		}
		need := m.Remaining()
		var ok, closer []byte
		for b := 0; b < 256; b++ {
			if !try.FeedFrom(m, byte(b)) {
				continue
			}
			ok = append(ok, byte(b))
			if try.Remaining() < need {
				closer = append(closer, byte(b))
			}
		}
		if len(ok) == 0 || need > 0 && len(closer) == 0 {
			t.Fatalf("after %q: stuck (remaining %d, %d bytes accepted)", doc, need, len(ok))
		}
		pick := ok
		if len(doc) >= budget {
			pick = closer
		}
		b := pick[rng.IntN(len(pick))]
		if b >= 0x80 && rng.IntN(3) > 0 { // favour ASCII so strings are readable
			b = pick[rng.IntN(len(pick))]
		}
		if !m.FeedByte(b) {
			t.Fatalf("after %q: FeedByte(%q) false after FeedFrom accepted it", doc, b)
		}
		doc = append(doc, b)
	}
	return string(doc)
}

func TestRandomDocumentsAreValid(t *testing.T) {
	for name, s := range testSchemas(t) {
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(24) {
				m, err := s.NewMatcher()
				if err != nil {
					t.Fatal(err)
				}
				doc := walkDocument(t, m, rand.New(rand.NewPCG(seed, 7)), int(seed%8)*20)
				if !json.Valid([]byte(doc)) {
					t.Fatalf("seed %d: not JSON: %q", seed, doc)
				}
				if err := s.Validate([]byte(doc)); err != nil {
					t.Fatalf("seed %d: %q: %v", seed, doc, err)
				}
			}
		})
	}
}
