package sandbox

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/interpreter"
)

// MaxRuns is how many runs one world may have in all, and MaxTranscript how
// many transcript lines it keeps between two reads: with a year of timers
// to fire, flows that wait and start each other could otherwise fill memory
// with runs and lines before a work limit stops them.
const (
	MaxRuns       = 1_000
	MaxTranscript = 100_000
	// MaxTranscriptBytes bounds those lines' bytes: a line can be a
	// megabyte (a sheet row of long values, escaped).
	MaxTranscriptBytes = 16 << 20
)

// renderMessage writes a message as the contact would see it on channel:
// the channel's variant if there is one, newlines as \n, choices in brackets.
func renderMessage(m *interpreter.SendMessage, channel string) string {
	v := m.On(channel)
	text, choices, attach := v.Text, v.Choices, v.Attachments
	if v.Template != "" {
		text = fmt.Sprintf("[template %s %s %s]", v.Template, v.Language, strings.Join(v.Params, ", "))
	}
	out := Escape(text)
	if len(choices) > 0 {
		out += " [" + strings.Join(choices, " | ") + "]"
	}
	if len(attach) > 0 {
		out += " (attach " + strings.Join(attach, ", ") + ")"
	}
	if m.Channel != "" {
		out += " (via " + m.Channel + ")"
	}
	return out
}

// Escape keeps a text on one transcript line, as a .flowtest can write it,
// and harmless to print: newlines show as \n, the whitespace that ends it
// (which a .flowtest line cannot end with) as \x20 for a space, \t and \r,
// and what a terminal would act on or reorder as escapes: control
// characters (\x1b), bidirectional controls (\u202e) and invalid UTF-8
// bytes (\xff).
func Escape(s string) string {
	body := strings.TrimRight(s, " \t\r")
	var b strings.Builder
	for i := 0; i < len(body); {
		r, n := utf8.DecodeRuneInString(body[i:])
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, body[i])
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || dsl.IsBidiControl(r): // C1 as \u0085, apart from the bad byte \x85
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(body[i : i+n])
		}
		i += n
	}
	b.WriteString(strings.NewReplacer(" ", `\x20`, "\t", `\t`, "\r", `\r`).Replace(s[len(body):]))
	return b.String()
}

func slug(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", "-"))
}
