package dsl

import (
	"unicode/utf8"
)

// A TextUse is what a text in a step is for, and how long it may be. Text
// people read (Read) keeps a missing value as written and is cut at Max
// characters once rendered, its last one replaced by "…"; a value that a
// step stores or sends on renders a missing value as empty, and one over
// Max characters fails the run rather than store or send a value cut short.
// The checker refuses a text whose words alone, before any value is filled
// in, are over Max.
type TextUse struct {
	What string // what the text is, for errors: "tag name"
	Max  int    // characters
	Read bool
}

// The uses of texts. respond.io's written-text limits (MaxTextLen, ...)
// hold once rendered too; the others are flowd's.
var (
	UseMessage    = TextUse{"message", MaxTextLen, true} // questions and retry prompts too
	UseChoice     = TextUse{"choice", MaxChoiceLen, true}
	UseSubject    = TextUse{"subject", 1000, true}
	UseParam      = TextUse{"template parameter", 1024, true} // WhatsApp's limit
	UseComment    = TextUse{"comment", MaxCommentLen, true}
	UseSummary    = TextUse{"closing summary", MaxCommentLen, true}
	UseAI         = TextUse{"AI instructions", 10000, true} // respond.io's AI agent instructions
	UseAttachment = TextUse{"attachment URL", 2000, false}
	UseAgent      = TextUse{"AI agent name", MaxNameLen, false}
	UseTag        = TextUse{"tag name", MaxNameLen, false}
	UseField      = TextUse{"field value", 4096, false} // a contact's whole message fits
	UseTarget     = TextUse{"user or team name", MaxNameLen, false}
	UseCategory   = TextUse{"closing category", MaxNameLen, false}
	UseFlowName   = TextUse{"flow name", MaxNameLen, false}
	UseURL        = TextUse{"URL", 8192, false}
	UseHeader     = TextUse{"header value", 8192, false}
	UseBody       = TextUse{"request body", 64 << 10, false}
	UseSheet      = TextUse{"sheet value", 50000, false} // Google Sheets' cell limit
	UseSheetName  = TextUse{"spreadsheet or tab name", MaxNameLen, false}
)

// MaxNameLen is the longest name a step gives: a tag, a user or team, a
// closing category, a flow.
const MaxNameLen = 255

// limit reports a text whose words, before any value is filled in, are over
// its use's limit: every run would fail there, or cut it.
func (c *checker) limit(t *Text, u TextUse) {
	if t == nil {
		return
	}
	n := 0
	for _, seg := range t.Segments() {
		if seg.Kind == Literal {
			n += utf8.RuneCountInString(seg.Value)
		}
	}
	if n > u.Max {
		c.errorf(t.Pos, "%s is %d characters before any value is filled in; the limit is %d", u.What, n, u.Max)
	}
}
