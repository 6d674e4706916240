package interpreter

import (
	"fmt"
	"maps"
	"strings"
)

// IsLabel reports whether a step id is a label the flow's author wrote, not
// "#n", the n-th step of one source, which names nothing in another.
func IsLabel(step string) bool { return step != "" && !strings.HasPrefix(step, "#") }

// Migrate moves a paused run from one version of its flow to another: the
// continuation c, bound to from, is rewritten to wait at the step of to
// with the same label, which must wait for the same thing. Its seq, retries
// and variables go with it, and the jumps' counters of labelled jump steps
// that to still has; the others start again. A run paused at an unlabelled
// step, or at a label to lacks or that waits for something else there, is
// not moved: the error says why.
func Migrate(c *Continuation, from, to *Program) (*Continuation, error) {
	if err := c.Bind(from); err != nil {
		return nil, err
	}
	if !IsLabel(c.Step) {
		return nil, fmt.Errorf("paused at an unlabelled step (%s, %s): only labels match across versions", c.Step, from.Position(c.PC))
	}
	pc, ok := to.WaitPC(c.Step)
	if !ok {
		if _, exists := to.stepIndex(c.Step); exists {
			return nil, fmt.Errorf("step %s no longer waits", c.Step)
		}
		return nil, fmt.Errorf("label %s is gone", c.Step)
	}
	if !waitsAt(c.Wait, to.Code[pc].Op) {
		return nil, fmt.Errorf("step %s now waits for %s, not %s", c.Step, waitOf(to.Code[pc].Op), c.Wait)
	}
	out := *c
	out.Program, out.PC, out.Jumps = to.Hash, pc, nil
	jumps := map[string]bool{}
	for _, j := range to.Jumps {
		jumps[j.Step] = true
	}
	for id, n := range c.Jumps {
		if IsLabel(id) && jumps[id] {
			if out.Jumps == nil {
				out.Jumps = map[string]uint8{}
			}
			out.Jumps[id] = n
		}
	}
	out.Vars = maps.Clone(c.Vars)
	return &out, nil
}

// stepIndex is the index of the step with the id.
func (p *Program) stepIndex(id string) (int, bool) {
	for i, s := range p.Steps {
		if s == id {
			return i, true
		}
	}
	return 0, false
}

// waitOf is what a run waits for at an instruction that waits.
func waitOf(op Opcode) WaitKind {
	for k := WaitReply; k < waitKinds; k++ {
		if waitsAt(k, op) {
			return k
		}
	}
	return WaitNone
}
