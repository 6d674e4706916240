package sandbox

import (
	"errors"
	"fmt"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
)

// Events from outside the flows, which go through trigger selection across
// every flow the world runs, as in production.

// OpenConversation opens the contact's conversation from outside; by is
// contact, user or flow.
func (w *World) OpenConversation(by string) error {
	return w.event(runtime.OpenConversation{Contact: ContactID, By: by})
}

// CloseConversation closes the contact's conversation from outside, as an
// agent (user), the contact or a flow elsewhere would.
func (w *World) CloseConversation(by, category, summary string) error {
	return w.event(runtime.CloseConversation{Contact: ContactID, By: by, Category: category, Summary: summary})
}

// ChangeTags adds and removes tags from outside: an agent, an import.
func (w *World) ChangeTags(add, remove []string) error {
	return w.event(runtime.TagChange{Contact: ContactID, Add: add, Remove: remove})
}

// ChangeField sets, or with clear clears, a contact field from outside.
func (w *World) ChangeField(name, value string, clear bool) error {
	return w.event(runtime.FieldChange{Contact: ContactID, Field: name, Value: value, Clear: clear})
}

// Shortcut is an agent running a shortcut for the contact, with the
// answers to its form.
func (w *World) Shortcut(name string, form map[string]string) error {
	return w.event(runtime.Shortcut{Contact: ContactID, Name: name, User: "agent", Form: form})
}

// AdClick is the contact arriving from a click-to-chat ad, with the ad's
// referral data; it opens a conversation when none is open.
func (w *World) AdClick(platform, adID string, referral map[string]any) error {
	return w.event(runtime.AdClick{Contact: ContactID, Platform: platform, AdID: adID, Referral: referral})
}

// StopBot is an agent stopping the bot for the contact: the runs that
// allow it (exit on manual stop) end, of one flow or ("") all, and those
// flows are held back for the rest of the conversation.
func (w *World) StopBot(flow string) error {
	return w.event(runtime.StopBot{Contact: ContactID, Flow: flow})
}

// SetEnrolled records that the contact entered the flows before: once
// per contact flows do not start again.
func (w *World) SetEnrolled(flows []string) error {
	return w.event(runtime.Seed{Contact: ContactID, Enrolled: flows})
}

// Publish makes the flow p, a draft, take part in trigger selection as if
// it were published, so that a test can try its trigger.
func (w *World) Publish(p *interpreter.Program) error {
	live := *p
	live.Draft = false
	for i, f := range w.flows {
		if f.Program.Flow == p.Flow {
			w.flows[i].Program = &live
			if w.main == p {
				w.main = &live
			}
			return w.e.Replace(w.ctx, w.flows)
		}
	}
	return fmt.Errorf("no flow %q to publish", p.Flow)
}

// SetNoConversation makes the contact one who never had a conversation:
// its first message opens one and fires the flows listening, as a new
// contact's does. Only before the case's first event.
func (w *World) SetNoConversation() error {
	if w.started {
		return errors.New("conversation none: only as the case's first line that sets up the contact")
	}
	w.noConversation = true
	return nil
}
