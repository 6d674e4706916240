// Package interpreter will own the bytecode compiler and the virtual machine
// that runs a checked flow until it waits, and the continuation that records
// the wait. It is built by the next issue; nothing here runs yet.
package interpreter
