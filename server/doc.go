// Package server owns flowd's HTTP surface: respond.io's Custom Channel
// webhook, through which integration servers hand in what contacts write,
// and health checks; the admin API, metrics and the web chat come next. It
// validates every request whole before the engine sees any of it, turns it
// into runtime events, and answers once they are committed. The rules the
// events follow live in runtime/, where flowd test and the REPL reach them
// too; docs/server.md describes every endpoint.
package server
