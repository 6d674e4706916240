package server_test

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/flowd/flowd/runtime/store"
)

// chromium finds a Chromium to drive, or skips the test; with
// FLOWD_REQUIRE_CHROMIUM=1 (CI) a missing Chromium fails it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("FLOWD_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("no Chromium, and FLOWD_REQUIRE_CHROMIUM=1")
	}
	t.Skip("no Chromium: install Debian's chromium to run the web chat test")
	return ""
}

// browser starts a headless Chromium and returns a context that drives it.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// The web chat in a real headless Chromium: the page opens a conversation
// as a new contact, the consent flow's question arrives with its ACCEPT AND
// CONTINUE button, a click answers it, the confirmation arrives, and the
// contact is tagged. "New contact" starts over as another contact.
func TestWebChatInChromium(t *testing.T) {
	ctx := browser(t)
	f := startAPI(t, nil, "request_consent_privacy.flow")
	accept := `//div[contains(@class,"replies")]/button[normalize-space()="ACCEPT AND CONTINUE"]`
	if err := chromedp.Do(ctx, chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(accept)); err != nil {
		t.Fatal(err)
	}
	log, err := chromedp.Run(ctx, chromedp.Text("#log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "Do you accept our privacy policy?") {
		t.Errorf("the page showed:\n%s", log)
	}
	err = chromedp.Do(ctx, chromedp.Click(accept),
		chromedp.WaitVisible(`//div[contains(@class,"bot") and contains(., "Thank you! You have accepted our privacy policy")]`))
	if err != nil {
		log, _ := chromedp.Run(ctx, chromedp.Text("#log"))
		t.Fatalf("%v; the page showed:\n%s", err, log)
	}
	if state, err := chromedp.Run(ctx, chromedp.Text("#state")); err != nil || state != "Conversation open" {
		t.Errorf("state: %q, %v", state, err)
	}
	token, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("flowd-visitor")`))
	if err != nil {
		t.Fatal(err)
	}
	first := f.visitorContact(token)
	c := f.waitContactID(first, func(c *store.Contact) bool { return slices.Contains(c.Tags, "Consent: Privacy") })
	if !slices.Contains(c.Channels, "webchat") {
		t.Errorf("the contact's channels: %v", c.Channels)
	}

	if err := chromedp.Do(ctx, chromedp.Click("#new"), chromedp.WaitVisible(accept)); err != nil {
		t.Fatal(err)
	}
	again, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("flowd-visitor")`))
	if err != nil {
		t.Fatal(err)
	}
	log, _ = chromedp.Run(ctx, chromedp.Text("#log"))
	if again == token || f.visitorContact(again) == first || strings.Contains(log, "Thank you") {
		t.Errorf("a new contact: token %q (was %q), page:\n%s", again, token, log)
	}
}

// The web chat's endpoints without a browser: a session's token names its
// contact only; its events stream resumes after the last id it saw; bad
// requests get the one error shape.
func TestWebChatEndpoints(t *testing.T) {
	f := startAPI(t, nil, "request_consent_privacy.flow")
	code, out := f.callWith("", "POST", "/webchat/session", nil)
	tok, _ := out["token"].(string)
	if code != 200 || len(tok) != 48 {
		t.Fatalf("session: %d %v", code, out)
	}
	events := func(header map[string]string, n int) []string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/webchat/events?token="+tok, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		var got []string
		sc := bufio.NewScanner(resp.Body)
		var id string
		for sc.Scan() && len(got) < n {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: ") && id != "":
				got = append(got, id+" "+strings.TrimPrefix(line, "data: "))
				id = ""
			}
		}
		return got
	}
	got := events(nil, 2)
	if len(got) != 2 || !strings.Contains(got[0], `"from":"bot","text":"Hi there!`) || !strings.Contains(got[1], `"choices":["ACCEPT AND CONTINUE"]`) {
		t.Fatalf("events: %q", got)
	}
	firstID, _, _ := strings.Cut(got[0], " ")
	if again := events(map[string]string{"Last-Event-ID": firstID}, 1); len(again) != 1 || again[0] != got[1] {
		t.Errorf("resumed after %s: %q, want %q", firstID, again, got[1])
	}
	for _, c := range []struct {
		tok  string
		body any
		code int
	}{
		{"", map[string]any{"text": "hi", "mId": "w1"}, 401},
		{strings.Repeat("0", 48), map[string]any{"text": "hi", "mId": "w1"}, 401},
		{tok, map[string]any{"text": " ", "mId": "w1"}, 400},
		{tok, map[string]any{"text": "hi"}, 400},
	} {
		if code, out := f.callWith(c.tok, "POST", "/webchat/message", c.body); code != c.code || out["code"] != float64(c.code) {
			t.Errorf("%v with %q: %d %v, want %d", c.body, c.tok, code, out, c.code)
		}
	}
	for i := 0; i < 3; i++ { // the same mId twice is one message
		if code, out := f.callWith(tok, "POST", "/webchat/message", map[string]any{"text": "ACCEPT AND CONTINUE", "mId": "w-accept"}); code != 200 {
			t.Fatalf("%d %v", code, out)
		}
	}
	id := f.visitorContact(tok)
	var ins int
	for _, a := range f.activity(id) {
		if a == "message_in: ACCEPT AND CONTINUE" {
			ins++
		}
	}
	if ins != 1 {
		t.Errorf("the message was taken %d times", ins)
	}
	limited := 0
	for i := 0; i < 5; i++ { // a burst of five sessions an address; the first was taken above
		if code, _ := f.callWith("", "POST", "/webchat/session", nil); code == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Error("new sessions from one address are not limited")
	}
}
