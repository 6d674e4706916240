package sandbox_test

import (
	"testing"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/sandbox"
)

// BenchmarkNew is what each case of flowd test pays before its
// first line: a fresh in-memory store, migrated, and an engine on it.
//
//	go test -run '^$' -bench New ./sandbox/
func BenchmarkNew(b *testing.B) {
	src := "flow \"Hi\"\ntrigger manual\nsend \"hi\"\n"
	p := compile(&testing.T{}, src)
	flows := []runtime.Flow{{Program: p, Source: []byte(src)}}
	for b.Loop() {
		w, err := sandbox.New(now, p, flows)
		if err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}
