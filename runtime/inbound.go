package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// KindStatus is the activity of a status report or an echo confirming a
// message flowd sent.
const KindStatus = "message_status"

// e164 is a phone number in E.164 form: a contact id of this form is also
// the contact's phone.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// IsE164 reports whether s is a phone number in E.164 form.
func IsE164(s string) bool { return e164.MatchString(s) }

// dedupKey is what makes a channel's repeat of an event the same event: the
// message id for messages and echoes, and the status too for statuses, of
// which one message has several.
func (in *Inbound) dedupKey() string {
	if in.Type == InStatus {
		return "in\x00" + in.From.ChannelID + "\x00" + in.MID + "\x00" + in.Status
	}
	return "in\x00" + in.From.ChannelID + "\x00" + in.MID
}

// upFront does at once what each of a batch's events would do first, for
// a batch that succeeds or fails whole (an event undone alone in its
// savepoint must undo its own): it records the inbound messages'
// de-duplication keys, identifies the contacts of those not seen before,
// and deletes the timers that fire.
func (e *Engine) upFront(tx store.Tx, evs []Event) error {
	w, ok := tx.(*watchTx)
	if !ok {
		return nil
	}
	var keys []string
	var ins []Inbound
	var timers []int64
	for _, ev := range evs {
		switch ev := ev.(type) {
		case Inbound:
			ins = append(ins, ev)
			if ev.MID != "" {
				keys = append(keys, ev.dedupKey())
			}
		case timerDue:
			timers = append(timers, ev.timer.ID)
		}
	}
	now := e.cfg.Now()
	var seen []bool // of keys, in their order
	if len(keys) > 1 {
		var err error
		if seen, err = tx.SeenAll(keys, now); err != nil {
			return err
		}
		w.seen = map[string][]bool{}
		for i, k := range keys {
			w.seen[k] = append(w.seen[k], seen[i])
		}
	}
	var addrs []store.Address
	for _, in := range ins {
		if in.MID != "" && seen != nil {
			was := seen[0]
			seen = seen[1:]
			if was {
				continue // not handled
			}
		}
		if in.Type != InStatus { // a status names a contact, or is dropped
			addrs = append(addrs, in.From)
		}
	}
	if len(addrs) > 1 {
		ids, created, err := tx.IdentifyAll(addrs, now)
		if err != nil {
			return err
		}
		w.identified = map[[2]string]identified{}
		for i, a := range addrs {
			key := [2]string{a.ChannelID, a.ExternalID}
			if _, ok := w.identified[key]; !ok {
				w.identified[key] = identified{ids[i], created[i]}
			}
		}
	}
	if len(timers) > 1 {
		gone, err := tx.DeleteTimers(timers)
		if err != nil {
			return err
		}
		w.fired = map[int64]bool{}
		for i, id := range timers {
			w.fired[id] = !gone[i]
		}
	}
	return nil
}

// identified is a contact a batch identified up front, and whether it
// created it.
type identified struct {
	id      string
	created bool
}

// identify is the contact the address names, as the batch identified it
// up front (upFront), or as the store does now; created is true the first
// time only.
func identify(tx store.Tx, a store.Address, now time.Time) (string, bool, error) {
	if w, ok := tx.(*watchTx); ok {
		key := [2]string{a.ChannelID, a.ExternalID}
		if got, ok := w.identified[key]; ok {
			w.identified[key] = identified{got.id, false}
			return got.id, got.created, nil
		}
	}
	return tx.Identify(a, now)
}

// seen records the key, unless the batch did (upFront), and reports
// whether it was recorded before.
func seen(tx store.Tx, key string, now time.Time) (bool, error) {
	if w, ok := tx.(*watchTx); ok {
		if q := w.seen[key]; len(q) > 0 {
			w.seen[key] = q[1:]
			return q[0], nil
		}
	}
	return tx.Seen(key, now)
}

// deleteTimer deletes a timer as it fires, unless the batch did (upFront):
// store.ErrNotFound when it was gone.
func deleteTimer(tx store.Tx, id int64) error {
	if w, ok := tx.(*watchTx); ok {
		if fired, ok := w.fired[id]; ok {
			delete(w.fired, id) // a second event of the timer finds it gone
			if !fired {
				return fmt.Errorf("timer %d: %w", id, store.ErrNotFound)
			}
			return nil
		}
	}
	return tx.DeleteTimer(id)
}

// inbound handles what a channel posted, once.
func (e *Engine) inbound(tx store.Tx, in Inbound) error {
	now := e.cfg.Now()
	if in.MID != "" {
		if seen, err := seen(tx, in.dedupKey(), now); err != nil || seen {
			return err
		}
	}
	if in.Type == InStatus {
		return e.status(tx, in)
	}
	id, created, err := identify(tx, in.From, now)
	if err != nil {
		return err
	}
	in.From.ContactID = id
	t, err := e.newTurn(tx, id, Message{}) // any inbound event may be a contact's first
	if err != nil {
		return err
	}
	t.addr = &in.From
	if created {
		t.profile(in)
	}
	switch in.Type {
	case InMessage:
		if ad := in.Referral; ad != nil {
			ad.Contact, ad.Channel = id, in.From.Channel
			if err := t.event(*ad); err != nil {
				return err
			}
		}
		text := in.Text
		if text == "" && in.Attachment != nil {
			text = in.Attachment.URL
		}
		t.message(Message{Contact: id, Channel: in.From.Channel, Text: text, Location: in.Location, Attachment: in.Attachment})
	case InEcho:
		own, err := t.ownEcho(in)
		switch {
		case err != nil:
			return err
		case own: // one flowd sent, confirmed
			t.note(nil, KindStatus, fmt.Sprintf("message %s echoed by the channel", in.MID), nil)
		default: // an agent wrote from the channel's own app
			if err := t.event(AgentMessage{Contact: id, Text: in.Text, Sent: true}); err != nil {
				return err
			}
		}
	case InOpen:
		if err := t.event(OpenConversation{Contact: id, By: "contact"}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("inbound event of type %q", in.Type)
	}
	return e.finish(t)
}

// status records a status report of a message flowd sent, in the activity
// of the contact it went to. A report can overtake the record of the
// message's delivery (the receiver's mId): it is then recorded on the
// contact the request names, not linked to its message. A report about a
// contact flowd does not know is dropped.
func (e *Engine) status(tx store.Tx, in Inbound) error {
	contact, outbox := "", int64(0)
	rec, err := tx.Receipt(in.From.ChannelID, in.MID)
	switch {
	case err == nil:
		contact, outbox = rec.ContactID, rec.OutboxID
	case errors.Is(err, store.ErrNotFound):
		contact, err = tx.Identity(in.From.ChannelID, in.From.ExternalID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
	default:
		return err
	}
	t, err := e.newTurn(tx, contact, in)
	if errors.Is(err, store.ErrNotFound) {
		return nil // named, but never wrote
	}
	if err != nil {
		return err
	}
	text := fmt.Sprintf("message %s %s", in.MID, in.Status)
	if msg := interpreter.CleanText(in.StatusMessage); msg != "" {
		text += ": " + msg
	}
	data, err := json.Marshal(map[string]any{"mId": in.MID, "status": in.Status, "outbox": outbox})
	if err != nil {
		return err
	}
	t.note(nil, KindStatus, text, data)
	return e.finish(t)
}

// echoWindow is how far back an echo is matched by its text with what the
// flows sent.
const echoWindow = 20

// ownEcho reports whether an echo is of a message flowd sent: its mId is
// one a receiver gave, or, since an echo can overtake the record of that
// answer, its text is one of the last messages the flows sent the contact.
func (t *turn) ownEcho(in Inbound) (bool, error) {
	_, err := t.tx.Receipt(in.From.ChannelID, in.MID)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return err == nil, err
	}
	recent, err := t.tx.ActivityBefore(t.c.ID, 0, echoWindow)
	if err != nil {
		return false, err
	}
	text := interpreter.CleanText(in.Text)
	for _, a := range recent {
		if a.Kind == KindMessageOut && a.Text == text {
			return true, nil
		}
	}
	return false, nil
}

// profile fills a new contact's fields from what the channel knows of it,
// and its phone from an E.164 contact id. A phone or email that is already
// another contact's is not set, and the activity says so: two contacts are
// never merged behind anyone's back.
func (t *turn) profile(in Inbound) {
	fields := make(map[string]string, len(in.Profile)+1)
	for k, v := range in.Profile {
		if v = interpreter.CleanText(v); v != "" {
			fields[k] = v
		}
	}
	if IsE164(in.From.ExternalID) && fields["phone"] == "" {
		fields["phone"] = in.From.ExternalID
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := fields[k]
		if k == "phone" || k == "email" {
			others, err := t.tx.FindContacts(k, v, 1)
			if t.fail(err); err != nil {
				return
			}
			if len(others) > 0 && others[0] != t.c.ID {
				t.note(nil, KindField, fmt.Sprintf("contact.%s not set: %q is contact %s's", k, v, others[0]), nil)
				continue
			}
		}
		t.c.Fields[k], t.contactDirty = v, true
	}
}
