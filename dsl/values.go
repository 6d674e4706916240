package dsl

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Parsers for the small value syntaxes inside steps, shared by the checker
// and the compiler so that both read them the same way.

// A PathElem is one part of a response path: .name (Key) or [n] (Index).
type PathElem struct {
	Key   string
	Index int // -1 for a key
}

// ParsePath parses a JSON response path: $ followed by .name and [index]
// parts, as in $.data.contacts[1].firstName.
func ParsePath(p string) ([]PathElem, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("it must start with $")
	}
	var out []PathElem
	rest := p[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			i := 1
			for i < len(rest) && rest[i] != '.' && rest[i] != '[' {
				i++
			}
			if i == 1 {
				return nil, fmt.Errorf("a name is missing after a dot")
			}
			out = append(out, PathElem{Key: rest[1:i], Index: -1})
			rest = rest[i:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("a [ is not closed")
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("an index must be a whole number")
			}
			out = append(out, PathElem{Index: n})
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("expected . or [ after %s", p[:len(p)-len(rest)])
		}
	}
	return out, nil
}

// ParseClock reads a time of day, HH:MM, as minutes after midnight; 24:00 is
// allowed as the end of a day.
func ParseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || h < 0 || m < 0 || h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("invalid time %s", s)
	}
	return h*60 + m, nil
}

// ParseDateTime reads the date and optional time of one end of a date range,
// as a wall-clock time (in UTC, to be read in the step's timezone). An end
// date without a time means the end of that day.
func ParseDateTime(date, clock string, end bool) (time.Time, error) {
	t, err := time.Parse("2006-01-02", date)
	if err != nil {
		return t, fmt.Errorf("invalid date %s", date)
	}
	switch {
	case clock != "":
		m, err := ParseClock(clock)
		if err != nil {
			return t, err
		}
		t = t.Add(time.Duration(m) * time.Minute)
	case end:
		t = t.Add(24 * time.Hour)
	}
	return t, nil
}
