package runtime

import (
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// An Event is something that happened, which the engine turns into one
// atomic unit of a store transaction. Every event but UserStatus belongs to
// one contact; a contact's events are handled one at a time, in the order
// they were handed over.
type Event interface {
	contact() string
}

// Message is a message from the contact: text or a location. A contact the
// store does not know yet is created. When no conversation is open, the
// message opens one (source contact).
type Message struct {
	Contact  string
	Channel  string // the channel it came on: whatsapp, messenger, ...; "" the contact's last
	Text     string
	Location *interpreter.Location
	// Attachment is the file the message carries; Text is then its
	// caption, or its URL when it has none.
	Attachment *Attachment
	// Key de-duplicates: a channel that sends the same message twice (a
	// webhook retried) gives it the same key, and the second is dropped.
	// "" is no key.
	Key string
}

// AgentMessage is a message a user sent the contact from the inbox or the
// API: the engine queues it for delivery on the contact's channel, unless
// Sent says it reached the contact already (an echo of a message written
// in the provider's own app).
type AgentMessage struct {
	Contact, User, Text string
	Sent                bool
	// Out, when set, receives the outbox id of the message to deliver.
	Out *int64
}

// Unassign is an agent or the API removing the conversation's assignee.
type Unassign struct {
	Contact string
}

// ResumeBot lets flows an agent stopped for the conversation (StopBot)
// start again: Flow "" is all of them.
type ResumeBot struct {
	Contact, Flow string
}

// OpenConversation opens the contact's conversation from outside: By is
// "user" (an agent) or "contact".
type OpenConversation struct {
	Contact, By string
}

// CloseConversation closes the contact's conversation from outside, with an
// optional closing note. By is "user" or "contact".
type CloseConversation struct {
	Contact, By       string
	Category, Summary string
}

// TagChange adds and removes contact tags from outside (an agent, an
// import, the API).
type TagChange struct {
	Contact     string
	Add, Remove []string
}

// FieldChange sets (or, with Clear, clears) a contact field from outside.
type FieldChange struct {
	Contact, Field, Value string
	Clear                 bool
}

// UserStatus is a user of the workspace going online, away or offline. A
// user coming online may take assignments that were queued.
type UserStatus struct {
	User, Status string
}

// ManualAssign is an agent assigning the conversation by hand.
type ManualAssign struct {
	Contact, User string
}

// Webhook is a call to a flow's webhook trigger, with its JSON body. The
// contact is Contact, or, when that is "", the one Key (id, phone or
// email) and Value name, created when Create lets it.
type Webhook struct {
	Contact, Flow string
	Body          any
	Key, Value    string
	Create        bool
}

// Shortcut is an agent running a shortcut for the contact, with the answers
// to its form, as text (typed by the form's field types).
type Shortcut struct {
	Contact, Name, User string
	Form                map[string]string
}

// AdClick is a contact arriving from a click-to-chat ad, which opens a
// conversation (source contact) and fires ad click triggers.
type AdClick struct {
	Contact, Platform, AdID, Channel string
	Referral                         map[string]any // the ad's referral data, as the platform sent it
}

// ManualStart starts a flow for the contact by hand (an agent, the API, a
// flow test's start line). Its trigger data is {type: manual} and Trigger.
// Only tests set Drafts, to start a draft.
type ManualStart struct {
	Contact, Flow string
	Trigger       map[string]any
	Drafts        bool
}

// StopBot is an agent stopping the bot for the contact from the inbox: see
// docs/language.md, exit on manual stop. Flow "" stops every flow that
// allows it.
type StopBot struct {
	Contact, Flow string
}

// Seed sets a contact up as it already was, firing nothing and starting
// no flow: a flow test's setup lines, an import. A contact the store lacks
// is created.
type Seed struct {
	Contact string
	Fields  map[string]any // a nil value clears the field
	Tags    []string       // when not nil, the contact's tags
	Channel string         // the channel the contact last wrote on
	// Past is how many earlier conversations the contact had, each
	// opened by the contact and closed, before what follows; at most
	// MaxSeedPast, each one a row.
	Past int
	// Enrolled are the flows the contact entered before: once per
	// contact flows do not start again.
	Enrolled []string
	// Close closes the open conversation, before Past is added; Open
	// then opens one (OpenedBy: contact, when "") unless one is open.
	Open, Close bool
	OpenedBy    string
	Assignee    string // a user id: the latest conversation's assignee
}

// StopRun ends one of the contact's runs by hand, whatever its exit
// conditions: an admin stopping it, a test tool starting over. Nothing is
// held back for the conversation, as StopBot holds.
type StopRun struct {
	Contact string
	Run     int64
}

// Inbound is one event a channel posted (respond.io's Custom Channel
// webhook, the web chat): a message of the contact's, an echo of a message
// sent from the channel's own app, or a status report of a message flowd
// sent. The engine finds the contact From names, or creates one, and drops
// what the channel posted before (the same message id, or the same status
// of it): see docs/server.md.
type Inbound struct {
	From store.Address
	Type string // InMessage, InEcho, InStatus or InOpen
	MID  string // the channel's message id
	At   time.Time
	// Text, Attachment and Location are a message or an echo. The text
	// is cleaned here (interpreter.CleanText), whatever sent it.
	Text       string
	Attachment *Attachment
	Location   *interpreter.Location
	// Profile fills a new contact's standard fields (firstname, lastname,
	// email, phone, language, ...): a contact the store has keeps its own.
	Profile map[string]string
	// Referral is the click-to-chat ad the message came from, if any.
	Referral *AdClick
	// Status and StatusMessage are a status report's: sent, delivered,
	// read or failed, and the channel's words.
	Status, StatusMessage string
}

// Inbound types.
const (
	InMessage = "message"
	InEcho    = "message_echo"
	InStatus  = "message_status"
	// InOpen is a visitor opening a web chat: the contact opens a
	// conversation before writing, as a widget's visitor does.
	InOpen = "open"
)

// An Attachment is a file a message carries: image, video, audio or file,
// and where it is.
type Attachment struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// MaxSeedPast bounds the earlier conversations one Seed adds.
const MaxSeedPast = 1000

// Result is the outcome of work done outside for a run: an HTTP response, a
// delivery report, an AI outcome. A result the run no longer waits for
// changes nothing.
type Result struct {
	Contact string
	Run     int64
	Input   interpreter.Input
	// Note, when set, goes to the contact's activity: what the executor
	// did ("http GET https://... -> 200").
	Note string
}

// timerDue is a stored timer that fell due.
type timerDue struct {
	timer store.Timer
}

// assignDue retries a queued assignment.
type assignDue struct {
	out store.Outbound
}

func (e Message) contact() string           { return e.Contact }
func (e AgentMessage) contact() string      { return e.Contact }
func (e OpenConversation) contact() string  { return e.Contact }
func (e CloseConversation) contact() string { return e.Contact }
func (e TagChange) contact() string         { return e.Contact }
func (e FieldChange) contact() string       { return e.Contact }
func (e UserStatus) contact() string        { return "" }
func (e ManualAssign) contact() string      { return e.Contact }
func (e Webhook) contact() string           { return e.Contact }
func (e Shortcut) contact() string          { return e.Contact }
func (e AdClick) contact() string           { return e.Contact }
func (e ManualStart) contact() string       { return e.Contact }
func (e StopBot) contact() string           { return e.Contact }
func (e Result) contact() string            { return e.Contact }
func (e Seed) contact() string              { return e.Contact }
func (e StopRun) contact() string           { return e.Contact }
func (e Unassign) contact() string          { return e.Contact }
func (e ResumeBot) contact() string         { return e.Contact }
func (e Inbound) contact() string           { return e.From.ContactID }
func (e timerDue) contact() string          { return e.timer.ContactID }
func (e assignDue) contact() string         { return e.out.ContactID }

// Defaults of Config.
const (
	DefaultAutoClose = 24 * time.Hour // respond.io's default
	// DefaultFiringCap flows may start for one contact, within
	// DefaultFiringWindow, before a start that another flow's change set
	// off is refused: two flows that set off each other loop.
	DefaultFiringCap    = 50
	DefaultFiringWindow = 10 * time.Minute
	// WatchdogGrace is how long past an HTTP step's own timeout the engine
	// waits for its answer before failing the step as unanswered.
	WatchdogGrace = time.Minute
	// DeliveryWatchdog is how long a run waits for a delivery report.
	DeliveryWatchdog = time.Hour
)
