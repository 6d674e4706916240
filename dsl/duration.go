package dsl

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A Duration is a length of time written like 90s, 5m, 1h30m or 7d. A day is
// always 24 hours.
type Duration time.Duration

// ParseDuration parses a .flow duration.
func ParseDuration(s string) (Duration, error) {
	rest, total := s, time.Duration(0)
	last := time.Duration(1 << 62) // the previous unit: each must be smaller
	for rest != "" {
		i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if i <= 0 {
			return 0, fmt.Errorf("malformed duration %q", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		rest = rest[i:]
		j := strings.IndexFunc(rest, func(r rune) bool { return r >= '0' && r <= '9' })
		if j < 0 {
			j = len(rest)
		}
		var unit time.Duration
		switch rest[:j] {
		case "ms":
			unit = time.Millisecond
		case "s":
			unit = time.Second
		case "m":
			unit = time.Minute
		case "h":
			unit = time.Hour
		case "d":
			unit = 24 * time.Hour
		default:
			return 0, fmt.Errorf("malformed duration %q: units are ms, s, m, h and d", s)
		}
		if unit >= last {
			return 0, fmt.Errorf("malformed duration %q: write each unit once, largest first (1h30m)", s)
		}
		last = unit
		if n > int64(1<<62)/int64(unit) {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		total += time.Duration(n) * unit
		if total < 0 {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		rest = rest[j:]
	}
	return Duration(total), nil
}

// String prints the duration the way an author writes it, largest units first:
// 1h30m, 7d, 90s.
func (d Duration) String() string {
	t := time.Duration(d)
	if t == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		name string
		len  time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if n := t / u.len; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			t -= n * u.len
		}
	}
	return b.String()
}
