package server

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flowd/flowd/runtime"
)

// FuzzWebhookBody feeds the webhook's decoder and validation anything: it
// never panics, and what it accepts is within the documented limits.
func FuzzWebhookBody(f *testing.F) {
	f.Add([]byte(`{"channelId":"sms1","contactId":"+60123456789","events":[{"type":"message","mId":"m1","timestamp":1767607200000,"message":{"type":"text","text":"Hello"}}]}`))
	f.Add([]byte(`{"channelId":"sms1","contactId":"ana","contact":{"email":"a@b.co","phone":"+60123456789"},"events":[{"type":"message_status","mId":"p1","status":{"value":"read"}}]}`))
	f.Add([]byte(`{"channelId":"sms1","contactId":"x","events":[{"type":"message","mId":"m","message":{"type":"attachment","attachment":{"type":"image","url":"https://e.com/a.png"}},"referral":{"platform":"facebook","adId":"1","data":{"k":1}}}]}`))
	f.Add([]byte(`{"channelId":"sms1","contactId":"x","events":[{"type":"message","mId":"m","message":{"type":"location","latitude":3.1,"longitude":101.6}}]}`))
	ch := &Channel{ID: "sms1", Name: "custom"}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req webhookBody
		if decodeJSON(b, &req) != nil {
			return
		}
		evs, err := req.events(ch, time.Unix(0, 0))
		if err != nil {
			if err.Code != 400 || err.Message == "" {
				t.Fatalf("an error without its shape: %+v", err)
			}
			return
		}
		if len(evs) == 0 || len(evs) > MaxWebhookEvents || len(req.ContactID) > MaxIDLen {
			t.Fatalf("accepted %d events for %q", len(evs), req.ContactID)
		}
		for _, ev := range evs {
			in := ev.(runtime.Inbound)
			if in.MID == "" || len(in.MID) > MaxIDLen || !utf8.ValidString(in.MID) {
				t.Fatalf("accepted mId %q", in.MID)
			}
			if in.Type == runtime.InMessage && in.Text == "" && in.Attachment == nil && in.Location == nil {
				t.Fatalf("accepted an empty message: %+v", in)
			}
		}
	})
}
