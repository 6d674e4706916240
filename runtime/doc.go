// Package runtime owns everything with I/O around a running flow. Today that
// is the executor of http steps (HTTPClient), which the sandbox uses for live
// calls and the engine will use for all of them. The engine itself, with
// contacts, conversations, continuations, timers and the outbox kept in
// PostgreSQL or the embedded store, and hot reload of flow files, comes with
// the next issues.
package runtime
