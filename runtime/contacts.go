package runtime

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// Contacts from outside: the admin API names a contact by an identifier,
// creates and updates contacts, erases them. The rules live here, with the
// engine, so that a contact is found, created or refused in the same
// transaction as what follows.

// KindComment is the activity of an agent's or the API's comment.
const KindComment = "comment"

// ErrExists is a contact that would be created, or given a phone or email,
// that another contact has: flowd does not merge two contacts.
var ErrExists = errors.New("exists")

// Lookup keys: how a contact is named from outside.
const (
	ByID    = "id"
	ByPhone = "phone"
	ByEmail = "email"
)

// ParseIdentifier splits respond.io's contact identifier, id:123,
// phone:+60123456789 or email:ana@example.com.
func ParseIdentifier(s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, ":")
	switch {
	case !ok || value == "":
		return "", "", fmt.Errorf("identifier %q: want id:123, phone:+60123456789 or email:ana@example.com", s)
	case key != ByID && key != ByPhone && key != ByEmail:
		return "", "", fmt.Errorf("identifier %q: %q is not id, phone or email", s, key)
	}
	return key, value, nil
}

// lookup is the contact named by key and value, or "".
func lookup(tx store.Tx, key, value string) (string, error) {
	if key == ByID {
		_, err := tx.Contact(value)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return value, err
	}
	ids, err := tx.FindContacts(key, value, 1)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// Find is the contact an identifier names; store.ErrNotFound when none.
func (e *Engine) Find(ctx context.Context, identifier string) (string, error) {
	key, value, err := ParseIdentifier(identifier)
	if err != nil {
		return "", err
	}
	tx, err := e.st.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	id, err := lookup(tx, key, value)
	if err == nil && id == "" {
		err = fmt.Errorf("contact %s: %w", identifier, store.ErrNotFound)
	}
	return id, err
}

// SaveContact creates or updates a contact from outside (the admin API):
// the contact named by Contact, or else by Key and Value. Create lets it
// create one that no contact matches, with Key's field set to Value;
// Update lets it change one that does. A field changed on an existing
// contact fires field changed flows, as an agent's change would; a new
// contact's fields fire nothing.
type SaveContact struct {
	Contact    string
	Key, Value string
	Create     bool
	Update     bool
	Fields     map[string]*string // nil clears the field
	// ID, when set, receives the contact's id once the event is handled.
	ID *string
}

// Erase erases a contact on request (data-protection law): see
// store.Tx.EraseContact.
type Erase struct {
	Contact string
}

// Comment is an agent's or the API's note on the contact's timeline.
type Comment struct {
	Contact, User, Text string
}

func (e SaveContact) contact() string { return e.Contact }
func (e Erase) contact() string       { return e.Contact }
func (e Comment) contact() string     { return e.Contact }

// resolve finds the contact key and value name, or, with create, makes a
// new one; created says which.
func (e *Engine) resolve(tx store.Tx, key, value string, create bool) (id string, created bool, err error) {
	if id, err = lookup(tx, key, value); err != nil || id != "" {
		return id, false, err
	}
	if !create || key == ByID {
		return "", false, fmt.Errorf("contact %s:%s: %w", key, value, store.ErrNotFound)
	}
	id, err = tx.NewContactNumber(e.cfg.Now())
	return id, true, err
}

func (e *Engine) saveContact(tx store.Tx, ev SaveContact) error {
	id, created := ev.Contact, false
	var err error
	if id == "" {
		id, created, err = e.resolve(tx, ev.Key, ev.Value, ev.Create)
		if err != nil {
			return err
		}
		if !created && !ev.Update {
			return fmt.Errorf("contact %s:%s: %w (contact %s)", ev.Key, ev.Value, ErrExists, id)
		}
	}
	t, err := e.newTurn(tx, id, Message{})
	if err != nil {
		return err
	}
	if created {
		t.c.Fields[ev.Key], t.contactDirty = ev.Value, true
	}
	names := make([]string, 0, len(ev.Fields))
	for k := range ev.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := ev.Fields[k]
		if v == nil {
			t.clearField(k, false)
			continue
		}
		if err := t.roomForField(k); err != nil {
			return err
		}
		val := interpreter.CleanText(*v)
		if k == ByPhone || k == ByEmail {
			other, err := lookup(tx, k, val)
			if err != nil {
				return err
			}
			if other != "" && other != id {
				return fmt.Errorf("%s %q: %w: it is contact %s's", k, val, ErrExists, other)
			}
		}
		if created {
			t.c.Fields[k] = val
		} else {
			t.setField(k, val, false)
		}
	}
	if created {
		t.note(nil, KindEvent, "contact created by the API", nil)
	}
	if ev.ID != nil {
		*ev.ID = id
	}
	return e.finish(t)
}

func (e *Engine) erase(tx store.Tx, ev Erase) error {
	if _, err := tx.Contact(ev.Contact); err != nil {
		return err
	}
	e.cache.take(ev.Contact)
	return tx.EraseContact(ev.Contact, e.cfg.Now())
}

// WebhookID is the id of a flow's webhook URL, derived from its name:
// lower case, each run of other characters a dash ("Order Shipped!" is
// order-shipped).
func WebhookID(flow string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(flow) {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// WebhookContact is how a webhook flow's body names its contact: the key
// (id, phone or email) its trigger identifies by, and the value its JSON
// path selects in body.
func WebhookContact(p *interpreter.Program, body any) (key, value string, err error) {
	tr := p.Trigger
	if tr == nil || tr.Event != interpreter.EventWebhook {
		return "", "", fmt.Errorf("%q: %w with a webhook trigger", p.Flow, ErrNoFlow)
	}
	if tr.Identify == "" || tr.Path == "" {
		return "", "", fmt.Errorf("%q: its trigger does not say how to identify the contact (identify email|phone|id \"PATH\")", p.Flow)
	}
	path, err := dsl.ParsePath(tr.Path)
	if err != nil {
		return "", "", err
	}
	nodes := path.Select(body)
	if len(nodes) != 1 {
		return "", "", fmt.Errorf("the body's %s at %s: %d values, want one", tr.Identify, tr.Path, len(nodes))
	}
	switch v := nodes[0].(type) {
	case string:
		value = v
	case float64:
		value = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return "", "", fmt.Errorf("the body's %s at %s is not a text or a number", tr.Identify, tr.Path)
	}
	if value == "" {
		return "", "", fmt.Errorf("the body's %s at %s is empty", tr.Identify, tr.Path)
	}
	return tr.Identify, value, nil
}
