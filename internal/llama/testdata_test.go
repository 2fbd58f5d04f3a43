package llama

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedData returns the path of a file under ../shared/testdata, skipping
// the test when it is absent (a lone clone) and failing under CI.
func sharedData(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "testdata", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("reference data missing: %s: %v", p, err)
		}
		t.Skipf("reference data missing: %s", p)
	}
	return p
}
