package dsl

import (
	"strings"
	"testing"
)

// TestParsePath: paths are RFC 9535's; a dotted name that cannot be one
// is shown in brackets.
func TestParsePath(t *testing.T) {
	for _, ok := range []string{"$", "$.phone", "$.custom_fields.phone", "$.data.contacts[1].firstName", "$[0][2]",
		"$['first-name']", "$.items[*].id", "$..email", "$.a[-1]", `$.items[?@.vip == true].name`} {
		if _, err := ParsePath(ok); err != nil {
			t.Errorf("ParsePath(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"phone", "$phone", "$.a[", "$.a[x]", "$.", "$.a]"} {
		if p, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) = %v, want an error", bad, p)
		}
	}
	if _, err := ParsePath("$.customer.first-name"); err == nil || !strings.HasSuffix(err.Error(), "; write $['customer']['first-name']") {
		t.Errorf("ParsePath($.customer.first-name): %v", err)
	}
}

func TestParseClock(t *testing.T) {
	for in, want := range map[string]int{"00:00": 0, "9:30": 570, "23:59": 1439, "24:00": 1440} {
		if got, err := ParseClock(in); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"24:01", "25:00", "12:60", "1200", ":30"} {
		if _, err := ParseClock(bad); err == nil {
			t.Errorf("ParseClock(%q) succeeded", bad)
		}
	}
}

func TestParseDateTime(t *testing.T) {
	start, _ := ParseDateTime("2026-12-24", "", false)
	end, _ := ParseDateTime("2026-12-24", "", true)
	evening, _ := ParseDateTime("2026-12-24", "18:30", true)
	if got := end.Sub(start).Hours(); got != 24 {
		t.Errorf("an end date without a time is the end of that day: %v hours", got)
	}
	if evening.Hour() != 18 || evening.Minute() != 30 {
		t.Errorf("with a time: %v", evening)
	}
	if _, err := ParseDateTime("2026-02-30", "", false); err == nil {
		t.Error("2026-02-30 accepted")
	}
}
