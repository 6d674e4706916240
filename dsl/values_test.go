package dsl

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		path string
		want []PathElem // nil: malformed
	}{
		{"$", []PathElem{}},
		{"$.phone", []PathElem{{Key: "phone", Index: -1}}},
		{"$.custom_fields.phone", []PathElem{{Key: "custom_fields", Index: -1}, {Key: "phone", Index: -1}}},
		{"$.data.contacts[1].firstName", []PathElem{{Key: "data", Index: -1}, {Key: "contacts", Index: -1}, {Index: 1}, {Key: "firstName", Index: -1}}},
		{"$[0][2]", []PathElem{{Index: 0}, {Index: 2}}},
		{"phone", nil},
		{"$phone", nil},
		{"$.a[", nil},
		{"$.a[-1]", nil},
		{"$.a[x]", nil},
		{"$.a]", []PathElem{{Key: "a]", Index: -1}}},
		{"$.", nil},
		{"$..a", nil},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.path)
		if tt.want == nil {
			if err == nil {
				t.Errorf("ParsePath(%q) = %v, want an error", tt.path, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.path, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParsePath(%q) (-want +got):\n%s", tt.path, diff)
		}
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
