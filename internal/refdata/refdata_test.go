package refdata

import (
	"os"
	"testing"
)

func TestPath(t *testing.T) {
	p := Path(t, "models/stories260K/README.md")
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}
