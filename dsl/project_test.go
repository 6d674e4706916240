package dsl_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowd/flowd/dsl"
)

// TestCheckProject covers the problems that span flows. Each case is a set of
// files and the diagnostics CheckProject reports for them, in the form
// file:line:col: severity: summary (detail).
func TestCheckProject(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{{
		name: "clean",
		files: map[string]string{
			"main.flow":    "flow \"Main\"\ntrigger conversation opened\nstart \"Collect email\"\n",
			"collect.flow": "flow \"Collect email\"\ntrigger manual\nask email \"Email?\" save contact.email\n",
		},
	}, {
		name: "flows that set each other off through their triggers",
		files: map[string]string{
			"ping.flow": "flow \"Ping\"\ntrigger tag added \"ping\"\ntag remove \"ping\"\ntag add \"pong\"\n",
			"pong.flow": "flow \"Pong\"\ntrigger tag added \"pong\"\ntag add \"ping\"\n",
			"city.flow": "flow \"City\"\ntrigger field changed contact.city\nfield city text\nset contact.zone = \"x\"\n",
			"zone.flow": "flow \"Zone\"\ntrigger field changed contact.zone\nfield zone text\nclear contact.city\n",
			"open.flow": "flow \"Opener\"\ntrigger conversation closed\nopen conversation\n",
			"shut.flow": "flow \"Closer\"\ntrigger conversation opened by flow\nclose conversation\n",
			// no loop: a tag a value decides, and a listener of contacts' openings
			"vary.flow": "flow \"Vary\"\ntrigger tag added \"a\"\ntag add \"$contact.name\"\n",
			"mine.flow": "flow \"Mine\"\ntrigger conversation opened by contact\nclose conversation\n",
		},
		want: []string{
			`city.flow:4:5: warning: this step sets contact.zone, which starts "Zone", and "Zone" starts this flow again: a loop (Workflow loop detected) (zone.flow:4:7: "Zone" clears contact.city, which starts "City" again; loop: "City" -> "Zone" -> "City")`,
			`open.flow:3:1: warning: this step opens a conversation, which starts "Closer", and "Closer" starts this flow again: a loop (Workflow loop detected) (shut.flow:3:1: "Closer" closes the conversation, which starts "Opener" again; loop: "Opener" -> "Closer" -> "Opener")`,
			`ping.flow:4:9: warning: this step adds tag "pong", which starts "Pong", and "Pong" starts this flow again: a loop (Workflow loop detected) (pong.flow:3:9: "Pong" adds tag "ping", which starts "Ping" again; loop: "Ping" -> "Pong" -> "Ping")`,
			`pong.flow:3:9: warning: this step adds tag "ping", which starts "Ping", and "Ping" starts this flow again: a loop (Workflow loop detected) (ping.flow:4:9: "Ping" adds tag "pong", which starts "Pong" again; loop: "Pong" -> "Ping" -> "Pong")`,
			`shut.flow:3:1: warning: this step closes the conversation, which starts "Opener", and "Opener" starts this flow again: a loop (Workflow loop detected) (open.flow:3:1: "Opener" opens a conversation, which starts "Closer" again; loop: "Closer" -> "Opener" -> "Closer")`,
			`zone.flow:4:7: warning: this step clears contact.city, which starts "City", and "City" starts this flow again: a loop (Workflow loop detected) (city.flow:4:5: "City" sets contact.zone, which starts "Zone" again; loop: "Zone" -> "City" -> "Zone")`,
		},
	}, {
		name: "duplicate flow names",
		files: map[string]string{
			"a.flow": "flow \"Welcome\"\ntrigger manual\n",
			"b.flow": "flow \"Welcome\"\ntrigger conversation opened\n",
			"c.flow": "# same name again\nflow \"Welcome\"\ntrigger manual\n",
			"d.flow": "flow \"welcome\"\ntrigger manual\n",
		},
		want: []string{
			`b.flow:1:6: error: flow "Welcome" is also defined in a.flow`,
			`c.flow:2:6: error: flow "Welcome" is also defined in a.flow`,
		},
	}, {
		name: "start names a missing flow",
		files: map[string]string{
			"main.flow": "flow \"Main\"\ntrigger conversation opened\n" +
				"if contact.email == \"\" {\n  start \"Colect email\"\n}\nstart \"Something else\"\n",
			"collect.flow": "flow \"Collect email\"\ntrigger manual\n",
		},
		want: []string{
			`main.flow:4:9: error: no flow is named "Colect email" (did you mean "Collect email"?)`,
			`main.flow:6:7: error: no flow is named "Something else"`,
		},
	}, {
		name: "start names a flow that is not manual",
		files: map[string]string{
			"main.flow":  "flow \"Main\"\ntrigger conversation opened\nstart \"Greet\"\nstart \"Main\"\n",
			"greet.flow": "flow \"Greet\"\ntrigger tag added \"VIP\"\n",
		},
		want: []string{
			`main.flow:3:7: error: flow "Greet" cannot be started by another flow (its trigger must be: trigger manual (greet.flow))`,
			`main.flow:4:7: error: flow "Main" cannot be started by another flow (its trigger must be: trigger manual (main.flow))`,
		},
	}, {
		name: "start cycle",
		files: map[string]string{
			"a.flow": "flow \"A\"\ntrigger manual\nstart \"B\"\n",
			"b.flow": "flow \"B\"\ntrigger manual\nsend \"hi\"\nstart \"A\"\n",
			"c.flow": "flow \"C\"\ntrigger manual\nstart \"A\"\n",
		},
		want: []string{
			`a.flow:1:6: error: flow "A" starts itself through start steps (cycle: "A" -> "B" -> "A")`,
			`b.flow:1:6: error: flow "B" starts itself through start steps (cycle: "B" -> "A" -> "B")`,
		},
	}, {
		name: "longer start cycle",
		files: map[string]string{
			"a.flow": "flow \"A\"\ntrigger manual\nstart \"B\"\n",
			"b.flow": "flow \"B\"\ntrigger manual\nstart \"C\"\n",
			"c.flow": "flow \"C\"\ntrigger manual\nstart \"A\"\n",
		},
		want: []string{
			`a.flow:1:6: error: flow "A" starts itself through start steps (cycle: "A" -> "B" -> "C" -> "A")`,
			`b.flow:1:6: error: flow "B" starts itself through start steps (cycle: "B" -> "C" -> "A" -> "B")`,
			`c.flow:1:6: error: flow "C" starts itself through start steps (cycle: "C" -> "A" -> "B" -> "C")`,
		},
	}, {
		name: "a flow that starts itself",
		files: map[string]string{
			"a.flow": "flow \"A\"\ntrigger manual\nask \"again?\" timeout 5m {\n  on timeout { start \"A\" }\n}\n",
		},
		want: []string{
			`a.flow:1:6: error: flow "A" starts itself through start steps (cycle: "A" -> "A")`,
		},
	}, {
		name: "diamond without a cycle",
		files: map[string]string{
			"a.flow": "flow \"A\"\ntrigger manual\nstart \"B\"\nstart \"C\"\n",
			"b.flow": "flow \"B\"\ntrigger manual\nstart \"D\"\n",
			"c.flow": "flow \"C\"\ntrigger manual\nstart \"D\"\n",
			"d.flow": "flow \"D\"\ntrigger manual\n",
		},
	}, {
		name: "group priority ties",
		files: map[string]string{
			"a.flow": "flow \"A\"\ntrigger conversation opened\ngroup \"inbound\" priority 1\n",
			"b.flow": "flow \"B\"\ntrigger conversation opened by contact\n# tie with A\ngroup \"inbound\" priority 1\n",
			"c.flow": "flow \"C\"\ntrigger conversation opened\ngroup \"inbound\" priority 2\n",
			// no priority counts as 0; D and E tie
			"d.flow": "flow \"D\"\ntrigger conversation opened\ngroup \"inbound\"\n",
			"e.flow": "flow \"E\"\ntrigger conversation opened\ngroup \"inbound\" priority 0\n",
			// same group and priority, another kind of trigger: no tie
			"f.flow": "flow \"F\"\ntrigger conversation closed\ngroup \"inbound\" priority 1\n",
			// another group: no tie
			"g.flow": "flow \"G\"\ntrigger conversation opened\ngroup \"outbound\" priority 1\n",
		},
		want: []string{
			`b.flow:4:1: warning: flows "A" and "B" share group "inbound" and priority 1 (give each a distinct priority so the order does not depend on names)`,
			`e.flow:3:1: warning: flows "D" and "E" share group "inbound" and priority 0 (give each a distinct priority so the order does not depend on names)`,
		},
	}, {
		name: "three-way tie: one warning for each flow after the first",
		files: map[string]string{
			"x.flow": "flow \"X\"\ntrigger tag added \"VIP\"\ngroup \"vip\" priority 5\n",
			"y.flow": "flow \"Y\"\ntrigger tag added \"Gold\"\ngroup \"vip\" priority 5\n",
			"z.flow": "flow \"Z\"\ntrigger tag added\ngroup \"vip\" priority 5\n",
		},
		want: []string{
			`y.flow:3:1: warning: flows "X" and "Y" share group "vip" and priority 5 (give each a distinct priority so the order does not depend on names)`,
			`z.flow:3:1: warning: flows "X" and "Z" share group "vip" and priority 5 (give each a distinct priority so the order does not depend on names)`,
		},
	}, {
		name: "conversation triggers tie only when their sources overlap",
		files: map[string]string{
			"a.flow": "flow \"A\"\ntrigger conversation opened by contact\ngroup \"g\" priority 1\n",
			"b.flow": "flow \"B\"\ntrigger conversation opened by user, flow\ngroup \"g\" priority 1\n",
			"c.flow": "flow \"C\"\ntrigger conversation opened by flow\ngroup \"g\" priority 1\n",
		},
		want: []string{
			`c.flow:3:1: warning: flows "B" and "C" share group "g" and priority 1 (give each a distinct priority so the order does not depend on names)`,
		},
	}, {
		name: "start names a draft",
		files: map[string]string{
			"main.flow":  "flow \"Main\"\ntrigger conversation opened\nstart \"Later\"\n",
			"later.flow": "flow \"Later\"\ntrigger manual\ndraft\nsend \"hi\"\n",
		},
		want: []string{
			`main.flow:3:7: warning: flow "Later" is a draft: starting it does nothing (remove the draft line from later.flow)`,
		},
	}, {
		name: "a custom field declared with two types",
		files: map[string]string{
			"a.flow": "flow \"A\"\ntrigger manual\nfield city text\nfield score number\n",
			"b.flow": "flow \"B\"\ntrigger manual\nfield city text\nfield score text\n",
			"c.flow": "flow \"C\"\ntrigger manual\nfield score checkbox\n",
		},
		want: []string{
			`b.flow:4:13: error: field score is declared text here but number in a.flow (a contact field has one type in the whole workspace)`,
			`c.flow:3:13: error: field score is declared checkbox here but number in a.flow (a contact field has one type in the whole workspace)`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := dsl.CheckProject(parseFiles(t, tt.files))
			var got []string
			for _, d := range ds {
				got = append(got, d.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckProject (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckProjectOrder checks that the result does not depend on the order
// the files are given in.
func TestCheckProjectOrder(t *testing.T) {
	files := parseFiles(t, map[string]string{
		"a.flow": "flow \"A\"\ntrigger manual\ngroup \"g\"\nstart \"B\"\nstart \"Nope\"\n",
		"b.flow": "flow \"B\"\ntrigger manual\nstart \"A\"\n",
		"c.flow": "flow \"C\"\ntrigger manual\ngroup \"g\"\n",
	})
	var first []string
	for i := 0; i < len(files); i++ {
		rotated := append(append([]*dsl.File(nil), files[i:]...), files[:i]...)
		var got []string
		for _, d := range dsl.CheckProject(rotated) {
			got = append(got, d.Error())
		}
		if i == 0 {
			first = got
			if len(first) != 4 {
				t.Fatalf("want 4 diagnostics (a missing flow, two cycles, a tie), got %q", first)
			}
			continue
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("files rotated by %d (-first +got):\n%s", i, diff)
		}
	}
}

// parseFiles parses each source under its name, in name order.
func parseFiles(t *testing.T, srcs map[string]string) []*dsl.File {
	t.Helper()
	names := make([]string, 0, len(srcs))
	for name := range srcs {
		names = append(names, name)
	}
	sort.Strings(names)
	var files []*dsl.File
	for _, name := range names {
		f, err := dsl.Parse(name, []byte(srcs[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		files = append(files, f)
	}
	return files
}

// TestTriggerLoopsScale: thousands of flows that each close the
// conversation and listen to its close are one loop; the graph stays linear
// in the flows, and at most 100 of them are reported.
func TestTriggerLoopsScale(t *testing.T) {
	var files []*dsl.File
	for i := 0; i < 3000; i++ {
		src := fmt.Sprintf("flow \"F%d\"\ntrigger conversation closed\nclose conversation\n", i)
		f, err := dsl.Parse(fmt.Sprintf("f%d.flow", i), []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	loops := 0
	for _, d := range dsl.CheckProject(files) {
		if strings.Contains(d.Summary, "Workflow loop detected") {
			loops++
		}
	}
	if loops == 0 || loops > 100 {
		t.Errorf("%d loop warnings, want 1 to 100", loops)
	}
}
