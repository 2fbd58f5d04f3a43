package llama

import (
	"testing"

	"flywheel/internal/refdata"
)

func sharedData(t testing.TB, rel string) string { return refdata.Path(t, rel) }
