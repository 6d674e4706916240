package interpreter

import (
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// validate checks a reply against an ask's type and returns the value to save:
// a string for most types, float64 for number, int for rating. choices are the
// rendered options of a choice question.
func validate(a *AskSpec, in Message, choices []string, now time.Time) (any, bool) {
	text := strings.TrimSpace(in.Text)
	switch a.Type {
	case "text":
		if in.Location != nil {
			return formatLocation(in.Location.Lat, in.Location.Long), true
		}
		return text, text != ""
	case "choice":
		return validChoice(text, choices)
	case "number":
		return validNumber(text, a.Min, a.Max)
	case "date":
		return validDate(text, now)
	case "phone":
		return validPhone(text)
	case "email":
		return validEmail(text)
	case "url":
		return validURL(text)
	case "rating":
		return validRating(text)
	case "location":
		if in.Location != nil {
			return formatLocation(in.Location.Lat, in.Location.Long), true
		}
		return validLocation(text)
	}
	return nil, false
}

// validChoice accepts an option's text (ignoring case and surrounding space)
// or its number in the list: "2" picks the second option, for channels
// without buttons.
func validChoice(text string, choices []string) (any, bool) {
	for _, c := range choices {
		if strings.EqualFold(strings.TrimSpace(c), text) {
			return c, true
		}
	}
	if n, err := strconv.Atoi(text); err == nil && n >= 1 && n <= len(choices) {
		return choices[n-1], true
	}
	return nil, false
}

var (
	numberSeparators = strings.NewReplacer(",", "", " ", "", "_", "")
	starMarks        = strings.NewReplacer("⭐", "", "★", "", "\uFE0F", "", " ", "")
)

// validNumber accepts a decimal number, with , or space as thousands
// separators, within the optional bounds.
func validNumber(text string, min, max *float64) (any, bool) {
	clean := numberSeparators.Replace(text)
	v, err := strconv.ParseFloat(clean, 64)
	if err != nil || clean == "" || strings.ContainsAny(clean, "xXpPeEinfINFn") {
		return nil, false
	}
	if (min != nil && v < *min) || (max != nil && v > *max) {
		return nil, false
	}
	return v, true
}

// dateLayouts are the formats respond.io accepts, month first, in Go's layout
// notation; a date is saved as YYYY-MM-DD.
var dateLayouts = []string{
	"01/02/2006", "2006/01/02", "01/02/06", "01-02-06", "Jan/02/2006", "Jan-02-2006",
	"Jan/02/06", "Jan-02-06", "01-02-2006", "2006-01-02",
	"1/2/2006", "1-2-2006", "2006/1/2", "Jan/2/2006", "Jan-2-2006",
}

func validDate(text string, now time.Time) (any, bool) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, text); err == nil {
			return t.Format("2006-01-02"), true
		}
	}
	// MM/DD and MM-DD: this year
	for _, layout := range []string{"01/02", "01-02", "1/2", "1-2"} {
		if t, err := time.Parse(layout, text); err == nil {
			year := now.Year() // the injected clock's: deterministic
			d := time.Date(year, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
			if d.Day() != t.Day() {
				return nil, false // 02/29 in a year that has no 29 February
			}
			return d.Format("2006-01-02"), true
		}
	}
	return nil, false
}

// validPhone accepts a number with its country code: 8 to 15 digits, with
// optional +, spaces, dashes, dots and parentheses. It is saved as +digits.
func validPhone(text string) (any, bool) {
	var digits strings.Builder
	for i, r := range text {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return nil, false
		}
	}
	n := digits.Len()
	if n < 8 || n > 15 {
		return nil, false
	}
	return "+" + digits.String(), true
}

// validEmail accepts a bare address with a dotted domain; the domain is saved
// in lower case.
func validEmail(text string) (any, bool) {
	addr, err := mail.ParseAddress(text)
	if err != nil || addr.Address != text || addr.Name != "" {
		return nil, false
	}
	at := strings.LastIndexByte(text, '@')
	domain := text[at+1:]
	if !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, ".") {
		return nil, false
	}
	return text[:at+1] + strings.ToLower(domain), true
}

// validURL accepts http and https URLs, and host names without a scheme
// (saved with https://).
func validURL(text string) (any, bool) {
	if strings.ContainsAny(text, " \t\n") {
		return nil, false
	}
	s := text
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, false
	}
	host := u.Hostname()
	if !strings.Contains(host, ".") || strings.HasSuffix(host, ".") {
		return nil, false
	}
	return s, true
}

// validRating accepts 1 to 5, as a digit or as that many stars.
func validRating(text string) (any, bool) {
	if n, err := strconv.Atoi(text); err == nil {
		return n, n >= 1 && n <= 5
	}
	stars := strings.Count(text, "⭐") + strings.Count(text, "★")
	rest := starMarks.Replace(text)
	if rest == "" && stars >= 1 && stars <= 5 {
		return stars, true
	}
	return nil, false
}

// validLocation accepts "(lat, long)" typed as text. respond.io's own example
// has latitude first though its docs say longitude: when the first number
// cannot be a latitude but the second can, they are swapped.
func validLocation(text string) (any, bool) {
	s := strings.TrimSuffix(strings.TrimPrefix(text, "("), ")")
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(parts) != 2 {
		return nil, false
	}
	a, err1 := strconv.ParseFloat(parts[0], 64)
	b, err2 := strconv.ParseFloat(parts[1], 64)
	if err1 != nil || err2 != nil || abs(a) > 180 || abs(b) > 180 {
		return nil, false
	}
	if abs(a) > 90 && abs(b) <= 90 {
		a, b = b, a
	}
	if abs(a) > 90 {
		return nil, false
	}
	return formatLocation(a, b), true
}

func formatLocation(lat, long float64) string {
	return strconv.FormatFloat(lat, 'f', -1, 64) + "," + strconv.FormatFloat(long, 'f', -1, 64)
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
