// Package interpreter owns the second half of the pipeline: it compiles a
// checked flow (dsl.File) into a Program of bytecode and runs it on a virtual
// machine that stops whenever the flow must wait for the outside world.
//
// # Program
//
// A Program is immutable and identified by a hash of its source. Its code is a
// slice of Instr: an Opcode and two operands, an index into one of the step
// tables (Sends, Asks, HTTPs, ...) and, for control flow, a target pc. Every
// instruction has a .flow position and a step id (the step's label, or "#n"
// for the n-th step in the file). Conditions and ${ } interpolations are
// expr-lang programs compiled once, with the step that holds them.
// Disassemble prints it all; `flowd disasm` shows it.
//
// Structured steps compile to jumps. A step with branches is followed by its
// branch blocks, each ending with a jump to the code after the step:
//
//	ASK    q1          ; invalid -> 1, timeout -> 3, answered -> 5
//	  (on invalid)     ; ...
//	JMP    5
//	  (on timeout)     ; ...
//	JMP    5
//	...                ; the step after the ask
//
// # Machine
//
// Machine.Start and Machine.Resume run a sprint: from a pc, one instruction
// after another, until the run waits, ends or fails. The VM does no I/O. It
// returns Effects as values (send a message, set a field, start a timer, make
// an HTTP request, ...) for the runtime to apply, and reads the world only
// from the Context it is given (contact, conversation, assignee, trigger data,
// the clock and timezone), so a sprint is deterministic.
//
// There is no operand stack and no call frames: conditions are whole expr
// programs, and `start` runs another flow as a separate run rather than a
// call, so nothing is live across a wait but the pc, the flow variables and
// the counters. A wait is therefore just a return. Each sprint has an
// instruction budget (DefaultBudget): jumps are bounded and their counters
// last the whole run, so a flow cannot loop forever, but a long chain of them
// without a wait is still a bug the budget reports at its .flow position. Any runtime error ends the run with a RuntimeError,
// never a panic.
//
// # Continuation
//
// A paused run is a Continuation: the program hash, the waiting pc, the wait
// kind, a sequence number, the retry count of the current question, the jump
// counters and the flow variables. Its binary encoding (Encode, Decode) starts
// with a magic and a Version; Decode rejects any other version. The sequence
// number is bumped at every wait and carried by timers and answers, so a timer
// that fires after the run moved on is ignored. Expression programs and
// contact data are never stored: on resume, the runtime finds the program by
// hash (a run stays on the version it paused in, even after the file changed)
// and supplies a fresh Context.
//
// # Waits and branches
//
// ask waits for a reply: a valid one is saved and the run goes on; an invalid
// one re-asks (the retry prompt, if any) until the retries are spent, then
// takes on invalid; the reply timeout restarts with each prompt and takes on
// timeout. assign waits for the assignment or its timeout (7 days by
// default). http waits for the response: 2xx continues, anything else takes on
// failure or, without it, continues with the mapped variables unset. ai reply
// waits for its outcome or the contact's idle timeout. send and sheet wait for
// the delivery result only when they have on failure. wait waits for its timer.
// A failure of ask, assign or ai reply whose branch is not written ends the run,
// as an empty branch does in respond.io.
package interpreter
