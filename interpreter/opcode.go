package interpreter

import "fmt"

// An Opcode is one VM instruction. Instructions take one or two integer
// operands: an index into one of the Program's step tables (Sends, Asks, ...)
// and, for control flow, a target pc. There is no operand stack: conditions
// are whole expr-lang programs, so nothing is ever live across a wait but the
// pc, the variables and the counters in the Continuation.
type Opcode uint8

const (
	NOP      Opcode = iota // NOP                        -    the zero instruction; the compiler never emits it
	SEND                   // SEND    send               emits a message; waits for delivery only if it has on failure
	ASK                    // ASK     ask                emits the question (and a timer); waits for the reply
	ASSIGN                 // ASSIGN  assign             emits the assignment request (and a timer); waits for the result
	UNASSIGN               // UNASSIGN                   emits unassign
	JMP                    // JMP     -       target     continues at target
	BRANCH                 // BRANCH  expr    target     continues at target unless the condition holds
	TAG                    // TAG     tag                adds or removes tags
	FIELD                  // FIELD   field              sets or clears a contact field
	OPEN                   // OPEN                       opens the conversation
	CLOSE                  // CLOSE   close              closes the conversation with a closing note
	COMMENT                // COMMENT text               adds an internal comment
	JUMP                   // JUMP    jump    target     bounded jump: to target while the jump's count is under its max
	WAIT                   // WAIT    wait               sets a timer; waits for it
	START                  // START   flow               starts another flow for the contact
	DURING                 // DURING  during  target     continues at target when outside the hours
	HTTP                   // HTTP    http               emits the request; waits for the response
	SHEET                  // SHEET   sheet              appends a row; waits for the result only if it has on failure
	AI                     // AI      ai                 hands the conversation to AI; waits for the outcome (reply mode)
	END                    // END                        ends the run

	opcodeCount
)

var opcodeNames = [...]string{
	NOP: "nop", SEND: "send", ASK: "ask", ASSIGN: "assign", UNASSIGN: "unassign",
	JMP: "jmp", BRANCH: "branch", TAG: "tag", FIELD: "field", OPEN: "open",
	CLOSE: "close", COMMENT: "comment", JUMP: "jump", WAIT: "wait", START: "start",
	DURING: "during", HTTP: "http", SHEET: "sheet", AI: "ai", END: "end",
}

func (op Opcode) String() string {
	if op < opcodeCount {
		return opcodeNames[op]
	}
	return fmt.Sprintf("illegal op (%d)", op)
}

// CodegenVersion is the version of the compiler's code layout. Increment it
// whenever the compiler lays out code differently for the same source. A
// continuation of version 2 names steps, not pcs, and resumes in any
// layout; one of version 1 names a pc of codegen 1, and resumes only while
// this is 1 (Continuation.Bind).
const CodegenVersion = 1

// An Instr is one instruction: an opcode and its operands.
type Instr struct {
	Op Opcode
	A  int32 // table index
	B  int32 // jump target, or -1
}
