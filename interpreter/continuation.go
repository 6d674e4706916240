package interpreter

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/flowd/flowd/internal/textfile"
)

// Version is the version of the continuation encoding. Increment it whenever
// the encoding or the meaning of a field changes, and keep decoding the
// versions before it: a run paused by an older flowd resumes in a newer one.
//
//   - 1 named the waiting instruction by its pc, and the jumps' counters by
//     slot: both positions in one code layout, valid only in code compiled by
//     codegen 1.
//   - 2 names the waiting step by its id (its label, or "#n" for the n-th
//     step of the source) and each jump's counter by the jump step's id, so
//     that the same source compiled by any later flowd resumes it.
const Version = 2

// magic starts every encoded continuation.
const magic = "FLC"

// A WaitKind says what a paused run waits for.
type WaitKind uint8

const (
	WaitNone     WaitKind = iota
	WaitReply             // an ask: a message, or its timer
	WaitTimer             // a wait step
	WaitDelivery          // a send or sheet row with an on failure branch
	WaitAssign            // an assign: the result, or its timer
	WaitHTTP              // an http step: the response
	WaitAI                // an ai reply: the outcome, or its idle timer

	waitKinds
)

var waitNames = [...]string{"none", "reply", "timer", "delivery", "assign", "http", "ai"}

func (k WaitKind) String() string {
	if k < waitKinds {
		return waitNames[k]
	}
	return fmt.Sprintf("wait(%d)", k)
}

// A Continuation is everything a paused run needs to resume, in another
// process or after a restart: which program (by hash), where (pc), what it
// waits for, and the run's state. Expression programs and contact data are
// never in it; the runtime supplies them again on resume.
type Continuation struct {
	Program string // hex hash of the program it paused in
	// Step is the id of the waiting step (Program.Steps), which is what
	// is encoded; PC is its waiting instruction in the code at hand, set
	// by Bind.
	Step    string
	PC      int
	Seq     uint32           // bumped at each wait; timers and answers carry it, so stale ones are ignored
	Wait    WaitKind         // what it waits for
	Retries int              // invalid replies so far to the waiting ask
	Jumps   map[string]uint8 // times each bounded jump was taken in this run, by the jump step's id
	Vars    map[string]any

	// V1 marks a continuation decoded from version 1, and V1Jumps are its
	// jump counters, by slot, until Bind gives them their steps' ids.
	V1      bool
	V1Jumps []uint8
}

// Bind resolves c against p, the program it paused in: PC from the step,
// or, for a version 1 continuation, the step and the jumps' ids from the pc
// and slots, which only code of codegen 1 lays out as they were written.
// It reports a continuation that does not wait at a step of p.
func (c *Continuation) Bind(p *Program) error {
	if c.V1 {
		if c.Program != p.LegacyHash || CodegenVersion != 1 {
			return fmt.Errorf("%w: a version 1 continuation of %s, not of %s (%s)", ErrWrongProgram, c.Program, p.LegacyHash, p.Flow)
		}
		if c.PC < 0 || c.PC >= len(p.Code) || !waitsAt(c.Wait, p.Code[c.PC].Op) {
			return fmt.Errorf("%w: pc %d, wait %v (%s)", ErrBadContinuation, c.PC, c.Wait, p.Flow)
		}
		c.Step = p.StepID(c.PC)
		for slot, n := range c.V1Jumps {
			if slot < len(p.Jumps) && n > 0 {
				if c.Jumps == nil {
					c.Jumps = map[string]uint8{}
				}
				c.Jumps[p.Jumps[slot].Step] = n
			}
		}
		c.V1, c.V1Jumps, c.Program = false, nil, p.Hash
		return nil
	}
	if c.Program != p.Hash {
		return fmt.Errorf("%w: %s, not %s (%s)", ErrWrongProgram, c.Program, p.Hash, p.Flow)
	}
	pc, ok := p.WaitPC(c.Step)
	if !ok || !waitsAt(c.Wait, p.Code[pc].Op) {
		return fmt.Errorf("%w: step %s, wait %v (%s)", ErrBadContinuation, c.Step, c.Wait, p.Flow)
	}
	c.PC = pc
	return nil
}

// Encode appends the binary form of c to dst:
//
//	"FLC" version:byte hash:8 bytes step:str seq:uvarint wait:byte retries:uvarint
//	njumps:uvarint (step:str count:byte)* nvars:uvarint (name:str value)*
//
// where str is a uvarint length and bytes, and value is a tag byte (0 nil,
// 1 string, 2 float64 as 8 bytes, 3 int as varint, 4 false, 5 true, 6 JSON str)
// followed by its payload. Variables are written in name order, so equal
// states encode to equal bytes.
func (c *Continuation) Encode(dst []byte) ([]byte, error) {
	if c.V1 {
		return nil, errors.New("continuation: version 1, not bound to its program: its pc names no step yet")
	}
	hash, err := hex.DecodeString(c.Program)
	if err != nil || len(hash) != 8 {
		return nil, fmt.Errorf("continuation: bad program hash %q", c.Program)
	}
	start := len(dst)
	dst = append(dst, magic...)
	dst = append(dst, Version)
	dst = append(dst, hash...)
	dst = appendString(dst, c.Step)
	dst = binary.AppendUvarint(dst, uint64(c.Seq))
	dst = append(dst, byte(c.Wait))
	dst = binary.AppendUvarint(dst, uint64(c.Retries))
	dst = binary.AppendUvarint(dst, uint64(len(c.Jumps)))
	if len(c.Jumps) > 0 {
		ids := make([]string, 0, len(c.Jumps))
		for id := range c.Jumps {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			dst = appendString(dst, id)
			dst = append(dst, c.Jumps[id])
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.Vars)))
	names := make([]string, 0, 8)
	for k := range c.Vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		dst = appendString(dst, k)
		if dst, err = appendValue(dst, c.Vars[k]); err != nil {
			return nil, fmt.Errorf("continuation: variable %s: %w", k, err)
		}
	}
	if n := len(dst) - start; n > MaxContinuation {
		return nil, fmt.Errorf("%w: its state takes %d bytes; a paused run may keep at most %d (%s)",
			ErrTooLarge, n, MaxContinuation, textfile.Size(MaxContinuation))
	}
	return dst, nil
}

// Size is the length of c's encoding, computed without encoding it: the VM
// checks it at every pause.
func (c *Continuation) Size() int {
	n := len(magic) + 1 + 8 + uvarintLen(uint64(len(c.Step))) + len(c.Step) + uvarintLen(uint64(c.Seq)) + 1 +
		uvarintLen(uint64(c.Retries)) + uvarintLen(uint64(len(c.Jumps))) + uvarintLen(uint64(len(c.Vars)))
	for id := range c.Jumps {
		n += uvarintLen(uint64(len(id))) + len(id) + 1
	}
	for k, v := range c.Vars {
		n += uvarintLen(uint64(len(k))) + len(k) + 1
		switch v := v.(type) {
		case nil, bool:
		case string:
			n += uvarintLen(uint64(len(v))) + len(v)
		case float64:
			n += 8
		case int:
			var buf [binary.MaxVarintLen64]byte
			n += binary.PutVarint(buf[:], int64(v))
		default:
			b, _ := json.Marshal(v)
			n += uvarintLen(uint64(len(b))) + len(b)
		}
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// ErrTooLarge is wrapped by Encode's error for a continuation over
// MaxContinuation.
var ErrTooLarge = errors.New("continuation too large")

// varSize is how much a variable's value takes in a continuation.
func varSize(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case nil, bool, int, float64:
		return 9
	}
	b, err := json.Marshal(v)
	if err != nil {
		return MaxVarSize + 1
	}
	return len(b)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, 0), nil
	case string:
		return appendString(append(dst, 1), v), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, 2), math.Float64bits(v)), nil
	case int:
		return binary.AppendVarint(append(dst, 3), int64(v)), nil
	case bool:
		if v {
			return append(dst, 5), nil
		}
		return append(dst, 4), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return appendString(append(dst, 6), string(b)), nil
}

// ErrVersion is wrapped by Decode's error for a continuation written by a
// different encoding version.
var ErrVersion = errors.New("unsupported continuation version")

// Decode reads a continuation written by Encode, of this version or an
// earlier one (see Version). It rejects later versions loudly rather than
// guess at their meaning. A continuation decoded is bound to its program
// (Bind) before it resumes.
func Decode(b []byte) (*Continuation, error) {
	d := decoder{b: b}
	if len(b) < len(magic)+1 || string(b[:len(magic)]) != magic {
		return nil, errors.New("continuation: not a flowd continuation")
	}
	if len(b) > MaxContinuation {
		return nil, fmt.Errorf("continuation: %w: %d bytes", ErrTooLarge, len(b))
	}
	v := b[len(magic)]
	if v < 1 || v > Version {
		return nil, fmt.Errorf("continuation: %w %d (this flowd reads versions 1 to %d)", ErrVersion, v, Version)
	}
	d.i = len(magic) + 1
	c := &Continuation{}
	c.Program = hex.EncodeToString(d.bytes(8))
	if v == 1 {
		c.V1, c.PC = true, int(d.uvarint())
	} else {
		c.Step = d.string() // "": an ended run's variables, waiting nowhere
	}
	c.Seq = uint32(d.uvarint())
	c.Wait = WaitKind(d.byte())
	c.Retries = int(d.uvarint())
	if n := d.uvarint(); n > uint64(len(b)) {
		d.fail()
	} else if n > 0 && v == 1 {
		c.V1Jumps = append([]uint8(nil), d.bytes(int(n))...)
	} else if n > 0 {
		c.Jumps = make(map[string]uint8, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			id := d.string()
			c.Jumps[id] = d.byte()
		}
	}
	n := d.uvarint()
	if n > uint64(len(b)) {
		d.fail()
	}
	if n > 0 && d.err == nil {
		c.Vars = make(map[string]any, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			k := d.string()
			c.Vars[k] = d.value()
		}
	}
	if d.err == nil && d.i != len(b) {
		d.err = errors.New("continuation: trailing bytes")
	}
	if d.err == nil && c.Wait >= waitKinds {
		d.err = fmt.Errorf("continuation: unknown wait kind %d", c.Wait)
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}

type decoder struct {
	b   []byte
	i   int
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errors.New("continuation: truncated or corrupt")
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || d.i >= len(d.b) {
		d.fail()
		return 0
	}
	d.i++
	return d.b[d.i-1]
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b)-d.i { // not d.i+n, which can overflow
		d.fail()
		return nil
	}
	d.i += n
	return d.b[d.i-n : d.i]
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.i += n
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	return string(d.bytes(int(n)))
}

func (d *decoder) value() any {
	switch d.byte() {
	case 0:
		return nil
	case 1:
		return d.string()
	case 2:
		b := d.bytes(8)
		if b == nil {
			return nil
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	case 3:
		if d.err != nil {
			return nil
		}
		v, n := binary.Varint(d.b[d.i:])
		if n <= 0 {
			d.fail()
			return nil
		}
		d.i += n
		return int(v)
	case 4:
		return false
	case 5:
		return true
	case 6:
		var v any
		if err := json.Unmarshal([]byte(d.string()), &v); err != nil {
			d.fail()
		}
		return v
	}
	d.fail()
	return nil
}

// String renders the continuation for people (the REPL's :state).
func (c *Continuation) String() string {
	vars, _ := json.Marshal(c.Vars)
	return fmt.Sprintf("program %s step %s seq %d wait %s retries %d jumps %v vars %s",
		c.Program, c.Step, c.Seq, c.Wait, c.Retries, c.Jumps, vars)
}
