package server_test

import (
	"slices"
	"strings"
	"testing"
)

// The consent flow end to end: a new contact's first message, posted in
// respond.io's Custom Channel format, makes flowd post the privacy message
// and the ACCEPT AND CONTINUE quick reply to <url>/message; the answer
// leaves the contact tagged.
func TestConsentThroughTheCustomChannel(t *testing.T) {
	rc := newReceiver(t)
	f := startFlowd(t, rc, "request_consent_privacy.flow")
	f.say("+60123456789", "in-1", "Hello")
	got := rc.waitFor(2)
	if got[0].text() != "Hi there! Before we continue, please read our privacy policy: https://example.com/privacy" {
		t.Errorf("first message: %q", got[0].text())
	}
	if want := "Do you accept our privacy policy? Tap the button below to continue. [ACCEPT AND CONTINUE]"; got[1].text() != want {
		t.Errorf("question: %q, want %q", got[1].text(), want)
	}
	for _, m := range got {
		if m.Auth != "Bearer "+token || m.ChannelID != channelID || m.ContactID != "+60123456789" || m.MessageID == "" || m.IdempotencyKey != m.MessageID {
			t.Errorf("a /message call: %+v", m)
		}
	}
	f.say("+60123456789", "in-2", "ACCEPT AND CONTINUE")
	got = rc.waitFor(3)
	if !strings.HasPrefix(got[2].text(), "Thank you! You have accepted") {
		t.Errorf("after the answer: %q", got[2].text())
	}
	c := f.contact("+60123456789")
	if !slices.Contains(c.Tags, "Consent: Privacy") || c.Fields["phone"] != "+60123456789" {
		t.Errorf("the contact: tags %v, fields %v", c.Tags, c.Fields)
	}
}
