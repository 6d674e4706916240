package interpreter

import (
	"fmt"

	"github.com/expr-lang/expr/vm"
	"github.com/flowd/flowd/dsl"
)

// Trigger events: what a flow's trigger listens to, and the trigger.type its
// runs see.
const (
	EventConversationOpened = "conversation opened"
	EventConversationClosed = "conversation closed"
	EventTagAdded           = "tag added"
	EventTagRemoved         = "tag removed"
	EventFieldChanged       = "field changed"
	EventWebhook            = "webhook"
	EventManual             = "manual"
	EventShortcut           = "shortcut"
	EventAdClick            = "ad click"
)

// A Trigger is a flow's compiled trigger: the event that enrolls a contact
// and the filters the runtime applies before the condition.
type Trigger struct {
	Event    string
	Sources  []string // conversation opened or closed: contact, user, flow; nil is any
	Tags     []string // tag added or removed: nil is any tag
	Fields   []string // field changed: the contact fields
	Shortcut string   // shortcut: its name
	Form     []FormField
	Platform string // ad click: meta or tiktok; "" is both
	Identify string // webhook: email, phone or id; "" when not given
	Path     string // webhook: where the body holds the identifier
	Create   bool   // webhook: create the contact when none matches
	Once     bool   // once per contact
	When     *vm.Program
	WhenSrc  string
}

// A FormField is one answer a shortcut's form asks the agent for.
type FormField struct {
	Name, Type, Label string
}

// An Exit is an event that stops a waiting run early (exit on ...).
type Exit uint8

const (
	ExitAgentMessage Exit = iota + 1
	ExitContactMessage
	ExitManualAssignment
	ExitManualStop
	ExitConversationClosed
)

var exitNames = map[string]Exit{
	"agent message": ExitAgentMessage, "contact message": ExitContactMessage,
	"manual assignment": ExitManualAssignment, "manual stop": ExitManualStop,
	"conversation closed": ExitConversationClosed,
}

func (e Exit) String() string {
	for name, x := range exitNames {
		if x == e {
			return name
		}
	}
	return fmt.Sprintf("exit(%d)", uint8(e))
}

// ExitsOn reports whether the flow's runs stop on e.
func (p *Program) ExitsOn(e Exit) bool {
	for _, x := range p.Exits {
		if x == e {
			return true
		}
	}
	return false
}

// trigger compiles the flow's trigger header.
func (c *compiler) trigger(t *dsl.Trigger) *Trigger {
	out := &Trigger{}
	switch ev := t.Event.(type) {
	case *dsl.ConversationEvent:
		out.Event = "conversation " + ev.Action
		for _, s := range ev.Sources {
			out.Sources = append(out.Sources, s.Name)
		}
	case *dsl.TagEvent:
		out.Event = "tag " + ev.Action
		for _, tag := range ev.Tags {
			out.Tags = append(out.Tags, tag.Value())
		}
	case *dsl.FieldEvent:
		out.Event = EventFieldChanged
		for _, f := range ev.Fields {
			out.Fields = append(out.Fields, f.Parts[len(f.Parts)-1])
		}
	case *dsl.WebhookEvent:
		out.Event = EventWebhook
		if ev.Identify != nil {
			out.Identify = ev.Identify.Name
		}
		if ev.Path != nil {
			out.Path = ev.Path.Value()
		}
		out.Create = ev.Create
	case *dsl.ManualEvent:
		out.Event = EventManual
	case *dsl.ShortcutEvent:
		out.Event = EventShortcut
		out.Shortcut = ev.Name.Value()
		for _, f := range ev.Form {
			ff := FormField{Name: f.Name.Name, Type: f.Type.Name}
			if f.Label != nil {
				ff.Label = f.Label.Value()
			}
			out.Form = append(out.Form, ff)
		}
	case *dsl.AdEvent:
		out.Event = EventAdClick
		if ev.Platform != nil {
			out.Platform = ev.Platform.Name
		}
	}
	for _, o := range t.Opts {
		if o.When != nil {
			out.When, out.WhenSrc = c.expr(o.When.Src, o.When.Pos, true), o.When.Src
		}
		out.Once = out.Once || o.Once
	}
	return out
}
