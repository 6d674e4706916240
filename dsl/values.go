package dsl

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/theory/jsonpath"
)

// Parsers for the small value syntaxes inside steps, shared by the checker
// and the compiler so that both read them the same way.

// ParsePath parses a JSON path of RFC 9535 (github.com/theory/jsonpath):
// $.data.contacts[1].firstName, $['first-name'], $.items[*].id,
// $..email. A name with characters a dotted name cannot hold ($.first-name)
// is an error whose message shows it in brackets.
func ParsePath(p string) (*jsonpath.Path, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, errors.New("it must start with $")
	}
	path, err := jsonpath.Parse(p)
	if err == nil {
		return path, nil
	}
	msg := strings.TrimPrefix(err.Error(), "jsonpath: ")
	if fixed := bracketNames(p); fixed != p && !strings.Contains(p[1:], "$") {
		if _, err := jsonpath.Parse(fixed); err == nil {
			return nil, fmt.Errorf("%s; write %s", msg, fixed)
		}
	}
	return nil, errors.New(msg)
}

// reDotted is a dotted name part: .name up to the next . or [.
var reDotted = regexp.MustCompile(`\.([^.\[\]'"*]+)`)

// bracketNames writes each dotted name of a path in brackets:
// $.first-name.x becomes $['first-name']['x'].
func bracketNames(p string) string {
	return reDotted.ReplaceAllStringFunc(p, func(m string) string {
		return "['" + strings.ReplaceAll(m[1:], "'", `\'`) + "']"
	})
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
