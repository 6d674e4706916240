package interpreter

import (
	"encoding/json"
	"time"
)

// An Effect is something the VM asks the outside world to do. The VM never
// does I/O: it returns effects as values, in order, and the runtime applies
// them (delivering messages through the outbox, writing contact fields, ...).
type Effect interface {
	// Type names the kind of effect, as in its JSON form: "send_message".
	Type() string
}

// Effect types, also the "type" of their JSON form.
const (
	TypeSendMessage       = "send_message"
	TypeStartTimer        = "start_timer"
	TypeCancelTimer       = "cancel_timer"
	TypeAddTags           = "add_tags"
	TypeRemoveTags        = "remove_tags"
	TypeSetField          = "set_field"
	TypeClearField        = "clear_field"
	TypeAssign            = "assign"
	TypeUnassign          = "unassign"
	TypeOpenConversation  = "open_conversation"
	TypeCloseConversation = "close_conversation"
	TypeAddComment        = "add_comment"
	TypeStartFlow         = "start_flow"
	TypeHTTPRequest       = "http_request"
	TypeSheetRow          = "sheet_row"
	TypeAIReply           = "ai_reply"
	TypeAIHandoff         = "ai_handoff"
	TypeCancelAssign      = "cancel_assign"
	TypeStopAI            = "stop_ai"
)

// SendMessage sends a message (or a question) to the contact.
type SendMessage struct {
	Step        string    `json:"step"`
	Text        string    `json:"text"`
	Choices     []string  `json:"choices,omitempty"`
	Attachments []string  `json:"attachments,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	Channel     string    `json:"channel,omitempty"` // "" is the last channel the contact used
	Variants    []Variant `json:"variants,omitempty"`
	Question    bool      `json:"question,omitempty"` // asked by an ask step
	// Seq is set when the VM waits for the delivery result (the send has an
	// on failure branch); the result must carry it back.
	Seq uint32 `json:"seq,omitempty"`
}

// On is the message as channel gets it: the channel's variant, where the
// step has one, over the default text, choices and attachments.
func (m *SendMessage) On(channel string) Variant {
	out := Variant{Channel: channel, Text: m.Text, Choices: m.Choices, Attachments: m.Attachments, Subject: m.Subject}
	for _, v := range m.Variants {
		if v.Channel != channel {
			continue
		}
		out.Text, out.Template, out.Language, out.Params = v.Text, v.Template, v.Language, v.Params
		if v.Choices != nil {
			out.Choices = v.Choices
		}
		if v.Attachments != nil {
			out.Attachments = v.Attachments
		}
		if v.Subject != "" {
			out.Subject = v.Subject
		}
	}
	return out
}

// A Variant is the message one channel gets instead of the default.
type Variant struct {
	Channel     string   `json:"channel"`
	Text        string   `json:"text,omitempty"`
	Template    string   `json:"template,omitempty"`
	Language    string   `json:"language,omitempty"`
	Params      []string `json:"params,omitempty"`
	Choices     []string `json:"choices,omitempty"`
	Attachments []string `json:"attachments,omitempty"`
	Subject     string   `json:"subject,omitempty"`
}

// StartTimer asks for a Timeout input carrying Seq after the given time.
type StartTimer struct {
	Seq   uint32        `json:"seq"`
	After time.Duration `json:"after"`
}

// CancelTimer withdraws the timer started with Seq; a stale timer that fires
// anyway is ignored by the VM.
type CancelTimer struct {
	Seq uint32 `json:"seq"`
}

// AddTags adds tags to the contact.
type AddTags struct {
	Tags []string `json:"tags"`
}

// RemoveTags removes tags from the contact.
type RemoveTags struct {
	Tags []string `json:"tags"`
}

// SetField writes a contact field.
type SetField struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// ClearField empties a contact field.
type ClearField struct {
	Field string `json:"field"`
}

// Assign asks for the conversation to be assigned. The VM waits for an
// AssignResult carrying Seq, or for its timer.
type Assign struct {
	Kind       string `json:"kind"` // user, team, workspace
	Target     string `json:"target,omitempty"`
	Logic      string `json:"logic,omitempty"` // round robin, least open
	OnlineOnly bool   `json:"online_only,omitempty"`
	MaxOpen    int    `json:"max_open,omitempty"`
	Seq        uint32 `json:"seq"`
}

// CancelAssign withdraws the Assign request made with Seq: its timeout
// passed, and the run has moved on.
type CancelAssign struct {
	Seq uint32 `json:"seq"`
}

// StopAI ends the AIReply made with Seq: the contact was idle too long.
type StopAI struct {
	Seq uint32 `json:"seq"`
}

// Unassign removes the conversation's assignee.
type Unassign struct{}

// OpenConversation opens a conversation with the contact (a no-op if open).
type OpenConversation struct{}

// CloseConversation closes the conversation with an optional closing note.
type CloseConversation struct {
	Category string `json:"category,omitempty"`
	Summary  string `json:"summary,omitempty"`
}

// AddComment adds an internal comment, which the contact does not see.
type AddComment struct {
	Text string `json:"text"`
}

// StartFlow starts another flow (with a manual trigger) for the contact; the
// current run goes on without waiting for it.
type StartFlow struct {
	Flow string `json:"flow"`
}

// HTTPRequest asks for an HTTP call; the VM waits for an HTTPResponse carrying
// Seq, which the executor makes with Answer.
type HTTPRequest struct {
	Method  string        `json:"method"`
	URL     string        `json:"url"`
	Headers [][2]string   `json:"headers,omitempty"`
	Body    string        `json:"body,omitempty"`
	Timeout time.Duration `json:"timeout"`        // the step's: the executor waits no longer, and no less
	JSON    bool          `json:"json,omitempty"` // the step maps the response, which must be JSON
	Seq     uint32        `json:"seq"`
}

// SheetRow appends a row to a spreadsheet. Seq is set when the VM waits for
// the result (the step has an on failure branch).
type SheetRow struct {
	Spreadsheet string      `json:"spreadsheet"`
	Tab         string      `json:"tab,omitempty"`
	Columns     [][2]string `json:"columns"`
	Seq         uint32      `json:"seq,omitempty"`
}

// AIReply hands the conversation to AI with instructions; the VM waits for an
// AIOutcome carrying Seq, or for the idle timer.
type AIReply struct {
	Instructions string   `json:"instructions"`
	Save         []string `json:"save,omitempty"`
	Seq          uint32   `json:"seq"`
}

// AIHandoff assigns the conversation to an AI agent.
type AIHandoff struct {
	Agent string `json:"agent"`
}

func (*SendMessage) Type() string       { return TypeSendMessage }
func (*StartTimer) Type() string        { return TypeStartTimer }
func (*CancelTimer) Type() string       { return TypeCancelTimer }
func (*AddTags) Type() string           { return TypeAddTags }
func (*RemoveTags) Type() string        { return TypeRemoveTags }
func (*SetField) Type() string          { return TypeSetField }
func (*ClearField) Type() string        { return TypeClearField }
func (*Assign) Type() string            { return TypeAssign }
func (*Unassign) Type() string          { return TypeUnassign }
func (*OpenConversation) Type() string  { return TypeOpenConversation }
func (*CloseConversation) Type() string { return TypeCloseConversation }
func (*AddComment) Type() string        { return TypeAddComment }
func (*StartFlow) Type() string         { return TypeStartFlow }
func (*HTTPRequest) Type() string       { return TypeHTTPRequest }
func (*SheetRow) Type() string          { return TypeSheetRow }
func (*AIReply) Type() string           { return TypeAIReply }
func (*AIHandoff) Type() string         { return TypeAIHandoff }
func (*CancelAssign) Type() string      { return TypeCancelAssign }
func (*StopAI) Type() string            { return TypeStopAI }

// MarshalEffect encodes an effect as JSON with its type, the form the runtime
// keeps in its outbox: {"type":"add_tags","tags":["VIP"]}.
func MarshalEffect(e Effect) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	typ, _ := json.Marshal(e.Type())
	if string(body) == "{}" {
		return []byte(`{"type":` + string(typ) + `}`), nil
	}
	return append([]byte(`{"type":`+string(typ)+`,`), body[1:]...), nil
}
