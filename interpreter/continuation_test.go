package interpreter

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testHash = "0123456789abcdef"

// jsonValue decodes JSON the way HTTP mappings do.
func jsonValue(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func roundTrip(t testing.TB, c *Continuation) *Continuation {
	t.Helper()
	b, err := c.Encode(nil)
	if err != nil {
		t.Fatalf("encode %v: %v", c, err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("decode %v: %v", c, err)
	}
	return got
}

// TestContinuationRoundTrip encodes and decodes every kind of value a
// variable can hold.
func TestContinuationRoundTrip(t *testing.T) {
	values := map[string]any{
		"nil":      nil,
		"empty":    "",
		"string":   "héllo, 世界 🤖 \x00\xff",
		"float":    3.25,
		"negzero":  math.Copysign(0, -1),
		"tiny":     math.SmallestNonzeroFloat64,
		"huge":     math.MaxFloat64,
		"inf":      math.Inf(-1),
		"nan":      math.NaN(),
		"int":      42,
		"negint":   -7,
		"maxint":   math.MaxInt64,
		"minint":   math.MinInt64,
		"zero":     0,
		"true":     true,
		"false":    false,
		"object":   jsonValue(t, `{"data": {"contacts": [{"firstName": "Jane", "age": 31.5}], "ok": true, "none": null}}`),
		"array":    jsonValue(t, `["a", 1, null, false, {"x": []}]`),
		"emptyobj": jsonValue(t, `{}`),
		"emptyarr": jsonValue(t, `[]`),
		"bignum":   jsonValue(t, `[1e300, -2.5e-300, 123456789012345680000]`),
	}
	c := &Continuation{Program: testHash, Step: "menu", Seq: math.MaxUint32, Wait: WaitAI, Retries: 10,
		Jumps: map[string]uint8{"#3": 0, "again": 10, "#12": 3}, Vars: values}
	got := roundTrip(t, c)
	if diff := cmp.Diff(c, got, cmp.Comparer(sameFloat), encodedOnly); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// each value alone, so a failure names it
	for name, v := range values {
		one := &Continuation{Program: testHash, Step: "#1", Wait: WaitReply, Vars: map[string]any{name: v}}
		if diff := cmp.Diff(one, roundTrip(t, one), cmp.Comparer(sameFloat), encodedOnly); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", name, diff)
		}
	}
	// the zero state
	zero := &Continuation{Program: testHash}
	if diff := cmp.Diff(zero, roundTrip(t, zero)); diff != "" {
		t.Errorf("zero continuation (-want +got):\n%s", diff)
	}
}

// TestContinuationDeterministic: equal states encode to equal bytes,
// whatever order the variables were set in.
func TestContinuationDeterministic(t *testing.T) {
	names := []string{"b", "a", "Zeta", "alpha", "é", "a1", "_"}
	build := func(order []string) *Continuation {
		vars := map[string]any{}
		for _, n := range order {
			vars[n] = float64(len(n) * 10)
		}
		vars["obj"] = jsonValue(t, `{"z": 1, "a": [2, {"y": 3, "b": 4}]}`)
		return &Continuation{Program: testHash, Step: "#7", Seq: 3, Wait: WaitReply, Vars: vars}
	}
	first, err := build(names).Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		rev := append([]string(nil), names...)
		for j := range rev {
			k := (j*7 + i) % len(rev)
			rev[j], rev[k] = rev[k], rev[j]
		}
		b, err := build(rev).Encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, b) {
			t.Fatalf("equal states encode differently:\n%x\n%x", first, b)
		}
	}
	// decoding and encoding again gives the same bytes
	c, err := Decode(first)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.Encode(nil)
	if !bytes.Equal(first, again) {
		t.Errorf("re-encoding changed the bytes:\n%x\n%x", first, again)
	}
	// Encode appends to dst
	prefixed, err := c.Encode([]byte("xy"))
	if err != nil || !bytes.Equal(prefixed, append([]byte("xy"), first...)) {
		t.Errorf("Encode(dst) = %x, %v", prefixed, err)
	}
}

func encoded(t testing.TB) []byte {
	t.Helper()
	b, err := (&Continuation{Program: testHash, Step: "lookup", Seq: 2, Wait: WaitHTTP, Retries: 1, Jumps: map[string]uint8{"#2": 1, "again": 2},
		Vars: map[string]any{"A": "x", "B": 2.5, "C": 3, "D": true, "E": nil, "F": jsonValue(t, `{"k": [1]}`)}}).Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeVersion: another version is rejected with an error wrapping
// ErrVersion.
func TestDecodeVersion(t *testing.T) {
	b := encoded(t)
	for _, v := range []byte{0, Version + 1, 255} {
		bad := bytes.Clone(b)
		bad[len(magic)] = v
		_, err := Decode(bad)
		if !errors.Is(err, ErrVersion) {
			t.Errorf("version %d: error %v, want one wrapping ErrVersion", v, err)
		}
	}
	if _, err := Decode(b); err != nil {
		t.Errorf("version %d: %v", Version, err)
	}
}

// TestDecodeErrors: damaged input is an error, never a panic or a wrong
// continuation.
func TestDecodeErrors(t *testing.T) {
	b := encoded(t)
	tests := map[string][]byte{
		"empty":          nil,
		"bad magic":      append([]byte("FLX"), b[3:]...),
		"json":           []byte(`{"program":"x"}`),
		"magic only":     []byte(magic),
		"trailing bytes": append(bytes.Clone(b), 0),
		"unknown wait":   withByte(b, len(magic)+1+8+1+len("lookup")+1, byte(waitKinds)),
	}
	for name, in := range tests {
		if c, err := Decode(in); err == nil {
			t.Errorf("%s: decoded %v", name, c)
		} else if errors.Is(err, ErrVersion) {
			t.Errorf("%s: version error %v", name, err)
		}
	}
	// every truncation
	for n := 0; n < len(b); n++ {
		if c, err := Decode(b[:n]); err == nil {
			t.Errorf("truncated to %d of %d bytes: decoded %v", n, len(b), c)
		}
	}
}

func withByte(b []byte, i int, v byte) []byte {
	out := bytes.Clone(b)
	out[i] = v
	return out
}

// TestDecodeHugeLengths: lengths far beyond the input are errors, not
// allocations or panics.
func TestDecodeHugeLengths(t *testing.T) {
	head := func() []byte {
		b := append([]byte(magic), Version)
		b = append(b, make([]byte, 8)...)
		b = binary.AppendUvarint(b, 0) // pc
		b = binary.AppendUvarint(b, 1) // seq
		b = append(b, byte(WaitReply))
		return binary.AppendUvarint(b, 0) // retries
	}
	for _, n := range []uint64{1 << 20, 1<<62 + 1, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		jumps := binary.AppendUvarint(head(), n)
		vars := binary.AppendUvarint(binary.AppendUvarint(head(), 0), n)
		name := append(binary.AppendUvarint(binary.AppendUvarint(head(), 0), 1), 0)
		name = binary.AppendUvarint(name[:len(name)-1], n)
		value := binary.AppendUvarint(binary.AppendUvarint(head(), 0), 1)
		value = append(value, 1, 'k', 1) // name "k", a string value
		value = binary.AppendUvarint(value, n)
		for what, in := range map[string][]byte{"jumps": jumps, "vars": vars, "name": name, "value": value} {
			in = append(in, "abc"...)
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s length %d: panic %v", what, n, r)
					}
				}()
				if c, err := Decode(in); err == nil {
					t.Errorf("%s length %d: decoded %v", what, n, c)
				}
			}()
		}
	}
}

// TestEncodeErrors: what cannot be encoded is an error.
func TestEncodeErrors(t *testing.T) {
	for _, c := range []*Continuation{
		{Program: "short"},
		{Program: "0123456789abcdeg"},
		{Program: testHash + "00"},
		{Program: testHash, Vars: map[string]any{"f": func() {}}},
		{Program: testHash, Vars: map[string]any{"ch": make(chan int)}},
		{Program: testHash, Vars: map[string]any{"nan": []any{math.NaN()}}},
	} {
		if b, err := c.Encode(nil); err == nil {
			t.Errorf("%v encoded as %x", c, b)
		}
	}
}

// TestContinuationFromRun: the continuations a real run produces survive
// Encode/Decode with every kind of variable: text, numbers, ratings, JSON
// from an HTTP mapping and the status.
func TestContinuationFromRun(t *testing.T) {
	p := compileBody(t, `ask "Name?" save Name
ask number "N?" save N
ask rating "R?" save R
http GET "https://x.example" {
  map "$.data" to Data
  status to Code
}
ask "done?"
send "$Name $N $R $Code"
`)
	s := newSession(t, p)
	s.start()
	s.reply("Ana")
	s.reply("2.5")
	s.reply("⭐⭐")
	s.resume(HTTPResponse{Seq: 4, Status: 200, Body: []byte(`{"data": {"list": [1, "two", null], "n": 1.5}}`)})
	c := s.decoded()
	want := map[string]any{"Name": "Ana", "N": 2.5, "R": 2, "Code": 200,
		"Data": map[string]any{"list": []any{1.0, "two", nil}, "n": 1.5}}
	if diff := cmp.Diff(want, c.Vars); diff != "" {
		t.Errorf("vars after decoding (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(c.String(), "program "+p.Hash) {
		t.Errorf("String() = %q", c.String())
	}
	wantEffects(t, "last", s.reply("yes"), `send #6 "Ana 2.5 2 200"`)
}
