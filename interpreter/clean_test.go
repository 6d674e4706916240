package interpreter

import (
	"fmt"
	"strings"
	"testing"
)

func TestCleanText(t *testing.T) {
	family := "👨\u200d👩\u200d👧" // joined by ZWJ
	persian := "می\u200cخواهم"  // a ZWNJ inside the word
	cases := []struct{ name, in, want string }{
		{"plain", "Hello, Ana!", "Hello, Ana!"},
		{"newlines and tabs", "a\nb\tc", "a\nb\tc"},
		{"NUL", "a\x00b", "ab"},
		{"ESC sequence", "\x1b[31mred\x1b[0m", "[31mred[0m"},
		{"CRLF", "one\r\ntwo\r", "one\ntwo"},
		{"DEL and C1", "a\x7fb\u0085c\u009bd", "abcd"},
		{"invalid UTF-8", "caf\xe9 \xff", "caf\ufffd \ufffd"},
		{"emoji joiners", family, family},
		{"Persian joiner", persian, persian},
		{"marks and overrides are format characters", "\u200fשלום\u202e", "\u200fשלום\u202e"},
	}
	for _, c := range cases {
		if got := CleanText(c.in); got != c.want {
			t.Errorf("%s: CleanText(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
	long := strings.Repeat("é", MaxMessageLen+10)
	if got := CleanText(long); got != strings.Repeat("é", MaxMessageLen) {
		t.Errorf("a long text is cut to %d characters: got %d", MaxMessageLen, len([]rune(got)))
	}
	clean := strings.Repeat("a clean message ", 100)
	if n := testing.AllocsPerRun(100, func() { CleanText(clean) }); n != 0 {
		t.Errorf("cleaning a clean text allocates %v times", n)
	}
}

// TestCleanValues: texts that an HTTP response or an AI brings into a run
// are cleaned as a contact's message is.
func TestCleanValues(t *testing.T) {
	p := compileBody(t, `http GET "https://crm.example/c" {
  map "$.name" to Name
  map "$.tags" to Tags
}
ai reply "Ask for their city" save City
set contact.firstname = "$Name"
tag add "${Tags[0]}"
set contact.country = "$City"
`)
	s := newSession(t, p)
	s.start()
	body := `{"name": "Ana\u0000\u001b[2J", "tags": ["VIP\r\n"]}`
	s.resume((&HTTPRequest{JSON: true, Seq: 1}).Answer(200, nil, []byte(body)))
	wantEffects(t, "ai", s.resume(AIOutcome{Seq: 2, Outcome: "success", Vars: map[string]string{"City": "Kuala\x00 Lumpur\x1b"}}),
		"cancel 2", `set firstname="Ana[2J"`, `tag add ["VIP\n"]`, `set country="Kuala Lumpur"`)
}

// TestAnswerCleaned: the machine cleans a contact's answer itself, whatever
// handed it over.
func TestAnswerCleaned(t *testing.T) {
	p := compileBody(t, "ask \"Name?\" save contact.firstname\n")
	s := newSession(t, p)
	s.start()
	wantEffects(t, "answer", s.reply("Ana\x00\x1b[2J\xff"), "set firstname=\"Ana[2J\ufffd\"")
}

// TestCleanKeys: the keys of an HTTP answer's objects are cleaned too: they
// reach texts through keys() and ${Obj}.
func TestCleanKeys(t *testing.T) {
	v := cleanValue(map[string]any{"na\x00me\x1b": "Ana", "ok": []any{map[string]any{"\xffx": 1}}})
	want := map[string]any{"name": "Ana", "ok": []any{map[string]any{"\ufffdx": 1}}}
	if fmt.Sprint(v) != fmt.Sprint(want) {
		t.Errorf("cleaned to %v, want %v", v, want)
	}
}
