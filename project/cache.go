package project

import (
	"bytes"
	"sync"
)

// cache keeps the flows loaded so far, by file, the name they were loaded
// under and whether they were compiled, with the source they were loaded
// from: a file whose source is the same is not parsed again. The .flowtest
// files of a folder share their siblings' loading, and a REPL's :reload
// compiles only what changed.
var cache = struct {
	sync.Mutex
	entries map[cacheKey]*Flow
	bytes   int // of the sources kept
}{entries: map[cacheKey]*Flow{}}

type cacheKey struct {
	path, name string
	compile    bool
}

// maxCached and maxCachedBytes bound the flows kept, and their sources'
// bytes (a program takes some times more); past either the cache starts
// over.
const (
	maxCached      = 1000
	maxCachedBytes = 32 << 20
)

// cached is a copy of the flow loaded before from the same source.
func cached(path, name string, compile bool, src []byte) *Flow {
	cache.Lock()
	e, ok := cache.entries[cacheKey{path, name, compile}]
	cache.Unlock()
	if !ok || !bytes.Equal(e.Source, src) {
		return nil
	}
	return clone(e)
}

// keep caches a copy of f.
func keep(path, name string, compile bool, f *Flow) {
	cache.Lock()
	defer cache.Unlock()
	key := cacheKey{path, name, compile}
	if old, ok := cache.entries[key]; ok {
		cache.bytes -= len(old.Source)
	}
	if len(cache.entries) >= maxCached || cache.bytes+len(f.Source) > maxCachedBytes {
		clear(cache.entries)
		cache.bytes = 0
	}
	cache.entries[key] = clone(f)
	cache.bytes += len(f.Source)
}

// clone copies a flow whose diagnostics the caller may add to.
func clone(f *Flow) *Flow {
	c := *f
	c.Diags = append(f.Diags[:0:0], f.Diags...)
	return &c
}
