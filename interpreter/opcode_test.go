package interpreter

import (
	"strings"
	"testing"
)

// TestOpcodeNames guards the names table: every opcode has a distinct,
// lower-case name, so the disassembly never prints an empty or shared one.
func TestOpcodeNames(t *testing.T) {
	seen := map[string]Opcode{}
	for op := Opcode(0); op < opcodeCount; op++ {
		name := op.String()
		switch {
		case name == "":
			t.Errorf("opcode %d has no name", op)
		case strings.HasPrefix(name, "illegal"):
			t.Errorf("opcode %d is named %q", op, name)
		case name != strings.ToLower(name):
			t.Errorf("opcode %d is named %q, not in lower case", op, name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("opcodes %d and %d are both named %q", prev, op, name)
		}
		seen[name] = op
	}
	if len(opcodeNames) != int(opcodeCount) {
		t.Errorf("opcodeNames has %d entries for %d opcodes", len(opcodeNames), opcodeCount)
	}
}

func TestOpcodeStringIllegal(t *testing.T) {
	for _, op := range []Opcode{opcodeCount, opcodeCount + 1, 255} {
		if got := op.String(); !strings.HasPrefix(got, "illegal op") {
			t.Errorf("Opcode(%d).String() = %q, want an illegal op", op, got)
		}
	}
	if got, want := Opcode(200).String(), "illegal op (200)"; got != want {
		t.Errorf("Opcode(200).String() = %q, want %q", got, want)
	}
}

func TestWaitKindNames(t *testing.T) {
	seen := map[string]bool{}
	for k := WaitKind(0); k < waitKinds; k++ {
		name := k.String()
		if name == "" || strings.HasPrefix(name, "wait(") || seen[name] {
			t.Errorf("wait kind %d is named %q", k, name)
		}
		seen[name] = true
	}
	if got, want := WaitKind(99).String(), "wait(99)"; got != want {
		t.Errorf("WaitKind(99).String() = %q, want %q", got, want)
	}
	for s, want := range map[Status]string{Waiting: "waiting", Done: "done", Failed: "failed"} {
		if got := s.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", s, got, want)
		}
	}
}
