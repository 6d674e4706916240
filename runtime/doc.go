// Package runtime owns everything with I/O around a running flow: trigger
// selection (Select, docs/language.md §8), the executor of http steps
// (HTTPClient), and, under store/, what the engine keeps and the embedded
// SQLite backend. The engine that turns events into store transactions is
// being built on them (issue 7); the sandbox still applies effects itself
// until it runs on that engine.
package runtime
