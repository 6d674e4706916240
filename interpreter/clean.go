package interpreter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxMessageLen is the most characters a text from outside brings into a
// run: a contact's message, an agent's, a value an AI collected. A longer
// one is cut. (WhatsApp's limit for one message is 4,096 characters.)
const MaxMessageLen = 4096

// CleanText makes text from outside fit to enter a run, at the boundary
// where it arrives: the engine's intake of every outside event, whoever
// handed it over (the server, the sandbox); the machine cleans an answer
// again, so that no caller can forget:
// invalid UTF-8 is repaired (each bad byte becomes U+FFFD), the control
// characters of Unicode's category Cc other than newline and tab (NUL, ESC,
// CR, DEL and the C1 controls) are removed, and the text is cut at
// MaxMessageLen characters. Format characters such as the zero-width joiner
// and non-joiner stay: emoji and Persian text need them. Clean text reaches
// tags, fields, databases and screens as it is.
func CleanText(s string) string { return clean(s, MaxMessageLen) }

// clean cleans s as CleanText does, cutting at max characters (0: no cut).
func clean(s string, max int) string {
	if isClean(s, max) {
		return s // the common case: nothing to do, nothing allocated
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s) && (max == 0 || n < max); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			n++
			continue
		}
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			continue
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// isClean reports whether s is printable ASCII (newlines and tabs allowed)
// within max characters, or else valid UTF-8 without controls.
func isClean(s string, max int) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			ascii = false
			break
		}
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return false
		}
	}
	if ascii {
		return max == 0 || len(s) <= max
	}
	if !utf8.ValidString(s) || max > 0 && utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return false
		}
	}
	return true
}

// cleanValue cleans every text in a value decoded from JSON (an HTTP
// response), without cutting: the variable's own limit applies. It cleans in
// place the maps and lists that need it.
func cleanValue(v any) any {
	switch v := v.(type) {
	case string:
		return clean(v, 0)
	case []any:
		for i, e := range v {
			v[i] = cleanValue(e)
		}
	case map[string]any:
		var renamed []string
		for k, e := range v {
			v[k] = cleanValue(e)
			if clean(k, 0) != k {
				renamed = append(renamed, k)
			}
		}
		for _, k := range renamed { // keys reach texts too: keys(), ${Obj}
			v[clean(k, 0)] = v[k]
			delete(v, k)
		}
	}
	return v
}
