// Package refdata locates the shared reference data for tests: a name under
// ../shared/testdata → its path, or a skip (a failure under CI) when it is
// absent.
package refdata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is the shared reference data folder, beside the repository root.
func Dir() string {
	_, file, _, _ := runtime.Caller(0) // …/internal/refdata/refdata.go
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "testdata")
}

// Path returns the path of rel under Dir. When the file is missing (the
// repository was cloned alone) the test is skipped, naming the path — unless
// the environment variable CI is set, where a missing file fails it.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(), rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("reference data missing: %s: %v", p, err)
		}
		t.Skipf("reference data missing: %s", p)
	}
	return p
}
