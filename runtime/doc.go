// Package runtime will own everything with I/O around a running flow:
// contacts, conversations, continuations, timers and the outbox, kept in
// PostgreSQL or the embedded store, and hot reload of flow files. Not built yet.
package runtime
