package flowtest

import (
	"bytes"
	"testing"
)

// TestBundledFlows runs the scripted conversations of every bundled template,
// as `flowd test flows/` does, so that `go test ./...` guards them in CI.
func TestBundledFlows(t *testing.T) {
	var out bytes.Buffer
	passed, failed, err := Run([]string{"../flows"}, &out, false)
	if err != nil {
		t.Fatal(err)
	}
	if failed > 0 || passed == 0 {
		t.Errorf("flows/: %d passed, %d failed\n%s", passed, failed, out.String())
	}
}
