package flowtest

import (
	"bytes"
	"strings"
	"testing"
)

func TestPassingFiles(t *testing.T) {
	for file, cases := range map[string]int{"testdata/consent.flowtest": 3, "testdata/askfail.flowtest": 2} {
		results, err := RunFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != cases {
			t.Fatalf("%s: got %d results, want %d", file, len(results), cases)
		}
		for _, r := range results {
			if !r.Passed() {
				t.Errorf("%s: %s failed:\n%s", file, r.Case.Name, strings.Join(r.Failures, "\n"))
			}
		}
	}
}

// TestFailuresAreReadable checks what an author sees when a case fails: the
// file and line, the event, and a diff of the transcript.
func TestFailuresAreReadable(t *testing.T) {
	var out bytes.Buffer
	passed, failed, err := Run([]string{"testdata/failing.flowtest"}, &out, false)
	if err != nil {
		t.Fatal(err)
	}
	if passed != 0 || failed != 3 {
		t.Fatalf("passed %d failed %d, want 0 and 3:\n%s", passed, failed, out.String())
	}
	for _, want := range []string{
		"--- FAIL: testdata/failing.flowtest:3: wrong text",
		"testdata/failing.flowtest:4: after start:",
		"    - bot: Hello!\n",
		"    + bot: Hi there! Please read https://example.com/privacy\n",
		"      bot: Do you accept? [ACCEPT AND CONTINUE]\n",
		`testdata/failing.flowtest:12: assert run.status == "done": false`,
		"run = map[status:waiting wait:reply]",
		"    + bot: Do you accept? [ACCEPT AND CONTINUE]",
		"0 passed, 3 failed\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"", "no cases"},
		{"=== a\nfrobnicate\n", `x.flowtest:2: unknown line "frobnicate"`},
		{"start\n", "x.flowtest:1: expected `flow FILE` or a case"},
		{"=== a\nassert\n", "assert needs an expression"},
	} {
		_, err := Parse("x.flowtest", strings.NewReader(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
}

func TestParseStub(t *testing.T) {
	for _, tc := range []struct {
		in     string
		method string
		url    string
		status int
		body   string
		err    string
	}{
		{in: `GET https://x/* -> 200 {"a": 1}`, method: "GET", url: "https://x/*", status: 200, body: `{"a": 1}`},
		{in: `* -> 500`, method: "*", url: "*", status: 500},
		{in: `POST https://x -> error timeout`, method: "POST", url: "https://x", err: "timeout"},
	} {
		s, err := ParseStub(tc.in)
		if err != nil {
			t.Fatalf("ParseStub(%q): %v", tc.in, err)
		}
		if s.Method != tc.method || s.URL != tc.url || s.Status != tc.status || s.Body != tc.body || s.Err != tc.err {
			t.Errorf("ParseStub(%q) = %+v", tc.in, s)
		}
	}
	for _, bad := range []string{"GET https://x", "GET https://x -> 99", "a b c -> 200"} {
		if _, err := ParseStub(bad); err == nil {
			t.Errorf("ParseStub(%q) succeeded", bad)
		}
	}
}

func TestDiff(t *testing.T) {
	got := Diff([]string{"a", "b", "c"}, []string{"a", "x", "c", "d"})
	want := "      a\n    - b\n    + x\n      c\n    + d"
	if got != want {
		t.Errorf("Diff:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseValue(t *testing.T) {
	for in, want := range map[string]any{`"42"`: "42", "42": 42, "2.5": 2.5, "true": true, "ana@example.com": "ana@example.com"} {
		if got := ParseValue(in); got != want {
			t.Errorf("ParseValue(%q) = %#v, want %#v", in, got, want)
		}
	}
}
