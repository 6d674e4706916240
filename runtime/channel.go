package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// A CustomChannel delivers messages to an integration server the way
// respond.io's Custom Channel does: a POST to <URL>/message with the
// channel's bearer token and {channelId, contactId, messageId, message},
// answered by 200 {"mId": ...}. The messageId is also the Idempotency-Key
// header, the same on every retry.
type CustomChannel struct {
	ID    string // the channel's id
	URL   string // the integration server's API base URL
	Token string
	// Client makes the calls; nil is one with DeliveryTimeout.
	Client *http.Client
}

// DeliveryTimeout bounds one delivery call.
const DeliveryTimeout = 30 * time.Second

// A wireMessage is a message in respond.io's shapes: text, attachment or
// quick_reply (a question with buttons).
type wireMessage struct {
	Type       string      `json:"type"`
	Text       string      `json:"text,omitempty"`
	Title      string      `json:"title,omitempty"`
	Replies    []string    `json:"replies,omitempty"`
	Attachment *Attachment `json:"attachment,omitempty"`
}

// WireMessages are the messages a flow's message becomes on channel: its
// text, or a quick reply when it offers choices, and then each attachment
// as a message of its own.
func WireMessages(m OutMessage) []any {
	if m.Message == nil {
		return nil
	}
	v := m.Message.On(m.Channel)
	var out []any
	switch {
	case len(v.Choices) > 0:
		out = append(out, wireMessage{Type: "quick_reply", Title: v.Text, Replies: v.Choices})
	case v.Template != "":
		out = append(out, wireMessage{Type: "text", Text: v.Text})
	case v.Text != "":
		out = append(out, wireMessage{Type: "text", Text: v.Text})
	}
	for _, u := range v.Attachments {
		out = append(out, wireMessage{Type: "attachment", Attachment: &Attachment{Type: AttachmentType(u), URL: u}})
	}
	return out
}

// AttachmentType is what a file's URL says it is: image, video, audio or
// file.
func AttachmentType(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	switch strings.ToLower(path.Ext(u)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp":
		return "image"
	case ".mp4", ".mov", ".webm", ".3gp":
		return "video"
	case ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wav":
		return "audio"
	}
	return "file"
}

// Deliver implements Channel. A message that is several on the wire (a
// text and its attachments) goes as several calls, the second with the id
// id-1, and so on; mid is the receiver's id of the first.
func (c *CustomChannel) Deliver(ctx context.Context, id, _ string, m OutMessage) (string, error) {
	if m.To == nil {
		return "", finalError{errors.New("the contact has no address on any channel")}
	}
	var first string
	for i, msg := range WireMessages(m) {
		mid := id
		if i > 0 {
			mid = id + "-" + strconv.Itoa(i)
		}
		got, err := c.post(ctx, mid, m.To.ExternalID, msg)
		if err != nil {
			return "", err
		}
		if i == 0 {
			first = got
		}
	}
	return first, nil
}

// post makes one call to <URL>/message.
func (c *CustomChannel) post(ctx context.Context, id, contactID string, msg any) (string, error) {
	body, err := json.Marshal(map[string]any{"channelId": c.ID, "contactId": contactID, "messageId": id, "message": msg})
	if err != nil {
		return "", err
	}
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: DeliveryTimeout}
	}
	service := "channel " + c.ID
	b, hdr, err := serviceCallHeader(ctx, client, service, http.MethodPost, strings.TrimSuffix(c.URL, "/")+"/message", c.Token, body,
		http.Header{"Idempotency-Key": {id}})
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) && hdr != nil {
			se.After = retryAfter(hdr.Get("Retry-After"), time.Now())
		}
		return "", err
	}
	var answer struct {
		MID any `json:"mId"`
	}
	if len(b) > 0 && json.Unmarshal(b, &answer) == nil && answer.MID != nil {
		var mid string
		switch v := answer.MID.(type) {
		case string:
			mid = v
		case float64:
			mid = strconv.FormatFloat(v, 'f', -1, 64)
		}
		if len(mid) <= MaxReceiptID { // a longer one no status report could name
			return mid, nil
		}
	}
	return "", nil
}

// MaxReceiptID bounds the receiver's message id flowd keeps; a webhook's
// mId is at most 50 characters.
const MaxReceiptID = 255

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Channels routes each message to the channel its address names.
type Channels map[string]Channel

// Deliver implements Channel.
func (cs Channels) Deliver(ctx context.Context, id, contactID string, m OutMessage) (string, error) {
	if m.To == nil {
		return "", finalError{errors.New("the contact has no address on any channel")}
	}
	c, ok := cs[m.To.ChannelID]
	if !ok {
		return "", finalError{fmt.Errorf("channel %q is not configured", m.To.ChannelID)}
	}
	return c.Deliver(ctx, id, contactID, m)
}
