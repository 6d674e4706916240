// Package runtime owns everything with I/O around a running flow: the
// Engine, which turns events into store transactions (trigger selection,
// effects applied to the contact and conversation, timers, exits,
// assignment, the outbox); the Writer that shares its commits; the
// Dispatcher that hands outbox work to executors (a Channel, an
// HTTPCaller such as HTTPClient, a SheetAppender such as SheetsClient, an
// AIAgent such as OpenAIClient) and brings
// their results back as events; the Directory of users; and a FakeClock
// for simulations. What the engine keeps, and the embedded SQLite backend,
// live under store/.
package runtime
