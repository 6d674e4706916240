package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/server"
)

func startAPI(t *testing.T, rc *receiver, files ...string) *flowd {
	t.Helper()
	users := runtime.Users{
		{ID: "mia", Name: "Mia Lopez", Email: "mia@example.com", Teams: []string{"Support"}, Status: "online"},
		{ID: "sam", Name: "Sam", Email: "sam@example.com", Teams: []string{"Sales"}, Status: "offline"},
	}
	return startFlowdWith(t, server.Options{APIToken: apiToken, Engine: runtime.Config{Directory: users},
		WebhookSecrets: map[string]string{"order-shipped": "hook-secret"}}, rc, files...)
}

// The Done-when of issue 19: after the consent conversation over the
// channel, the contact is tagged, visible at GET /v2/contact/phone:...
func TestConsentVisibleThroughTheAPI(t *testing.T) {
	rc := newReceiver(t)
	f := startAPI(t, rc, "request_consent_privacy.flow")
	first := message("+60123456789", "m1", "Hello")
	first["contact"] = map[string]any{"firstName": "Ana", "lastName": "Silva"}
	if code, out := f.post("/custom/channel/webhook/", token, first); code != 200 {
		t.Fatal(code, out)
	}
	rc.waitFor(2)
	f.say("+60123456789", "m2", "ACCEPT AND CONTINUE")
	rc.waitFor(3)
	c := f.must("GET", "/v2/contact/phone:+60123456789", nil)
	if c["firstName"] != "Ana" || c["lastName"] != "Silva" || c["phone"] != "+60123456789" || c["status"] != "open" ||
		fmt.Sprint(c["tags"]) != "[Consent: Privacy]" || c["assignee"] != nil {
		t.Errorf("contact: %v", c)
	}
	id := fmt.Sprint(c["id"])
	if again := f.must("GET", "/v2/contact/id:"+id, nil); fmt.Sprint(again["id"]) != id {
		t.Errorf("by id: %v", again)
	}
}

// Without a token, or with a wrong one, /v2 answers 401 before anything
// else; a server with no token configured answers 401 to everything.
func TestAPIToken(t *testing.T) {
	f := startAPI(t, nil)
	for _, tok := range []string{"", "wrong"} {
		if code, out := f.callWith(tok, "GET", "/v2/contact/id:1", nil); code != 401 || out["code"] != float64(401) {
			t.Errorf("token %q: %d %v", tok, code, out)
		}
	}
	off := startFlowd(t, nil)
	if code, out := off.call("GET", "/v2/flowd/users", nil); code != 401 || !strings.Contains(fmt.Sprint(out["message"]), "off") {
		t.Errorf("with the API off: %d %v", code, out)
	}
}

// Contacts through respond.io's shapes: create by email, refuse a second,
// update, create-or-update, tags (firing a tag flow as an agent's change
// would), lifecycle, comment, conversation status with closing notes,
// assignment by email and unassignment, an agent's message delivered, the
// messages listed, and delete, which erases.
func TestContactLifecycleThroughTheAPI(t *testing.T) {
	rc := newReceiver(t)
	f := startAPI(t, rc, "testdata/vip_welcome.flow")
	out := f.must("POST", "/v2/contact/email:bo@example.com", map[string]any{"firstName": "Bo", "custom_fields": []any{map[string]any{"name": "plan", "value": "gold"}}})
	id := fmt.Sprint(out["contactId"])
	if code, out := f.call("POST", "/v2/contact/email:bo@example.com", map[string]any{"firstName": "Bob"}); code != 409 {
		t.Errorf("creating it again: %d %v", code, out)
	}
	f.must("PUT", "/v2/contact/id:"+id, map[string]any{"lastName": "Berg", "custom_fields": []any{map[string]any{"name": "plan", "value": nil}}})
	if out := f.must("POST", "/v2/contact/create_or_update/email:bo@example.com", map[string]any{"language": "sv"}); fmt.Sprint(out["contactId"]) != id {
		t.Errorf("create or update found %v, want %s", out, id)
	}
	other := fmt.Sprint(f.must("POST", "/v2/contact/create_or_update/phone:+60100000009", map[string]any{"firstName": "Cy"})["contactId"])
	if other == id {
		t.Error("create or update of a new phone found the first contact")
	}
	if code, out := f.call("PUT", "/v2/contact/id:"+other, map[string]any{"email": "bo@example.com"}); code != 409 {
		t.Errorf("giving another contact's email: %d %v", code, out)
	}
	f.must("POST", "/v2/contact/id:"+id+"/tag", []string{"VIP", "Newsletter"})
	f.must("DELETE", "/v2/contact/id:"+id+"/tag", []string{"Newsletter"})
	f.must("POST", "/v2/contact/id:"+id+"/lifecycle/update", map[string]any{"name": "Customer"})
	f.must("POST", "/v2/contact/id:"+id+"/comment", map[string]any{"text": "Called about the invoice"})
	f.must("POST", "/v2/contact/id:"+id+"/conversation/status", map[string]any{"status": "open"})
	f.must("POST", "/v2/contact/id:"+id+"/conversation/assignee", map[string]any{"assignee": "mia@example.com"})
	c := f.must("GET", "/v2/contact/email:bo@example.com", nil)
	a, _ := c["assignee"].(map[string]any)
	if c["firstName"] != "Bo" || c["lastName"] != "Berg" || c["language"] != "sv" || c["lifecycle"] != "Customer" ||
		fmt.Sprint(c["tags"]) != "[VIP]" || fmt.Sprint(c["custom_fields"]) != "[]" || c["status"] != "open" ||
		a == nil || a["email"] != "mia@example.com" || a["firstName"] != "Mia" || a["lastName"] != "Lopez" {
		t.Errorf("contact: %v", c)
	}
	out = f.must("POST", "/v2/contact/id:"+id+"/message", map[string]any{"message": map[string]any{"type": "text", "text": "Your invoice is on its way"}})
	if !strings.HasPrefix(fmt.Sprint(out["messageId"]), "flowd-") {
		t.Errorf("send: %v", out)
	}
	f.must("POST", "/v2/contact/id:"+id+"/conversation/assignee", map[string]any{"assignee": nil})
	f.must("POST", "/v2/contact/id:"+id+"/conversation/status", map[string]any{"status": "close", "category": "Resolved", "summary": "Invoice sent"})
	c = f.must("GET", "/v2/contact/id:"+id, nil)
	if c["status"] != "close" || c["assignee"] != nil {
		t.Errorf("after closing: %v", c)
	}
	acts := strings.Join(f.activity(id), "\n")
	for _, want := range []string{`started "VIP Welcome" on tag added "VIP"`, "message_out: Welcome to the VIP club", "comment: Called about the invoice",
		"agent_message: Your invoice is on its way", "conversation closed by user", `assigned "mia@example.com" by hand`, "unassigned by hand"} {
		if !strings.Contains(acts, want) {
			t.Errorf("activity lacks %q:\n%s", want, acts)
		}
	}
	list := f.must("GET", "/v2/contact/id:"+id+"/message/list?limit=1", nil)
	items, _ := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["message"].(map[string]any)["text"] != "Your invoice is on its way" ||
		list["pagination"].(map[string]any)["next"] == nil {
		t.Errorf("messages: %v", list)
	}

	f.must("DELETE", "/v2/contact/id:"+id, nil)
	if code, _ := f.call("GET", "/v2/contact/id:"+id, nil); code != 404 {
		t.Errorf("an erased contact: %d", code)
	}
	if code, _ := f.call("GET", "/v2/contact/email:bo@example.com", nil); code != 404 {
		t.Errorf("an erased contact by email: %d", code)
	}
	if acts := f.activity(id); len(acts) != 0 {
		t.Errorf("an erased contact's activity: %v", acts)
	}
}

// Bad admin API requests: one error shape, naming the field.
func TestBadAPIRequests(t *testing.T) {
	f := startAPI(t, nil)
	id := fmt.Sprint(f.must("POST", "/v2/contact/phone:+60100000001", map[string]any{})["contactId"])
	for _, c := range []struct {
		method, path string
		body         any
		code         int
		field        string
	}{
		{"GET", "/v2/contact/nobody", nil, 400, "identifier"},
		{"GET", "/v2/contact/id:999999", nil, 404, ""},
		{"POST", "/v2/contact/id:5", map[string]any{}, 400, "identifier"},
		{"POST", "/v2/contact/phone:0123", map[string]any{}, 400, "identifier"},
		{"PUT", "/v2/contact/id:" + id, map[string]any{"nickname": "x"}, 400, "nickname"},
		{"PUT", "/v2/contact/id:" + id, map[string]any{"email": "nope"}, 400, "email"},
		{"PUT", "/v2/contact/id:" + id, map[string]any{"firstName": strings.Repeat("a", 256)}, 400, "firstName"},
		{"PUT", "/v2/contact/id:" + id, map[string]any{"custom_fields": []any{map[string]any{"name": "Bad Name", "value": 1}}}, 400, "custom_fields[0].name"},
		{"PUT", "/v2/contact/id:" + id, `{"firstName": `, 400, ""},
		{"POST", "/v2/contact/id:" + id + "/tag", []string{}, 400, ""},
		{"POST", "/v2/contact/id:" + id + "/tag", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}, 400, ""},
		{"POST", "/v2/contact/id:" + id + "/conversation/status", map[string]any{"status": "snooze"}, 400, "status"},
		{"POST", "/v2/contact/id:" + id + "/conversation/assignee", map[string]any{"assignee": "nobody@example.com"}, 404, "assignee"},
		{"POST", "/v2/contact/id:" + id + "/message", map[string]any{"message": map[string]any{"type": "sticker"}}, 400, "message.type"},
		{"POST", "/v2/contact/id:" + id + "/comment", map[string]any{"text": strings.Repeat("x", 1<<20)}, 413, ""},
		{"POST", "/v2/flowd/contact/id:" + id + "/shortcut", map[string]any{"name": "Nope"}, 404, "name"},
		{"POST", "/v2/flowd/users/nobody/status", map[string]any{"status": "online"}, 404, "assignee"},
		{"POST", "/v2/flowd/users/mia/status", map[string]any{"status": "busy"}, 400, "status"},
		{"GET", "/v2/nothing", nil, 404, ""},
	} {
		code, out := f.call(c.method, c.path, c.body)
		if code != c.code || out["code"] != float64(c.code) || out["field"] != nilIfEmpty(c.field) || out["message"] == "" {
			t.Errorf("%s %s: %d %v; want %d, field %q", c.method, c.path, code, out, c.code, c.field)
		}
	}
}

// flowd's additions: a run paused at a question is listed with what it
// waits for; stopping the bot mid-question leaves the contact's next
// message without a bot reply; a run can be stopped; users' status
// changes; flows are listed with their diagnostics and graph.
func TestFlowdAdditions(t *testing.T) {
	rc := newReceiver(t)
	f := startAPI(t, rc, "testdata/survey.flow")
	f.say("c1", "m1", "Hi")
	rc.waitFor(1)
	id := f.contact("c1").ID
	runs := f.must("GET", "/v2/flowd/contact/id:"+id+"/runs", nil)["items"].([]any)
	run := runs[0].(map[string]any)
	if len(runs) != 1 || run["flow"] != "Survey" || run["status"] != "waiting" || run["waitingFor"] != "reply" || run["deadline"] == nil {
		t.Errorf("runs: %v", runs)
	}
	f.must("POST", "/v2/flowd/contact/id:"+id+"/bot/stop", nil)
	f.say("c1", "m2", "5")
	if after := f.after(id, "message_in: 5"); slices.ContainsFunc(after, func(s string) bool { return strings.HasPrefix(s, "message_out") }) {
		t.Errorf("the bot answered after being stopped: %q", after)
	}
	if s := f.must("GET", "/v2/flowd/contact/id:"+id+"/runs", nil)["items"].([]any)[0].(map[string]any)["status"]; s != "stopped" {
		t.Errorf("run after stopping the bot: %v", s)
	}
	f.must("POST", "/v2/flowd/contact/id:"+id+"/bot/resume", nil)
	acts := f.must("GET", "/v2/flowd/contact/id:"+id+"/activity", nil)["items"].([]any)
	if last := acts[len(acts)-1].(map[string]any); last["text"] != "bot resumed" {
		t.Errorf("last activity: %v", last)
	}

	f.say("c2", "n1", "Hi")
	rc.waitFor(2)
	id2 := f.contact("c2").ID
	runID := f.must("GET", "/v2/flowd/contact/id:"+id2+"/runs", nil)["items"].([]any)[0].(map[string]any)["id"]
	f.must("POST", fmt.Sprintf("/v2/flowd/contact/id:%s/runs/%v/stop", id2, runID), nil)
	f.say("c2", "n2", "4")
	if after := f.after(id2, "message_in: 4"); slices.ContainsFunc(after, func(s string) bool { return strings.HasPrefix(s, "message_out") }) {
		t.Errorf("a stopped run answered: %q", after)
	}

	f.must("POST", "/v2/flowd/users/sam@example.com/status", map[string]any{"status": "away"})
	users := f.must("GET", "/v2/flowd/users", nil)["items"].([]any)
	if len(users) != 2 || users[1].(map[string]any)["status"] != "away" || users[1].(map[string]any)["openConversations"] != float64(0) {
		t.Errorf("users: %v", users)
	}
	teams := f.must("GET", "/v2/flowd/teams", nil)["items"].([]any)
	if len(teams) != 2 {
		t.Errorf("teams: %v", teams)
	}
}

// A shortcut run by an agent through the API starts its flow with the form.
func TestShortcutThroughTheAPI(t *testing.T) {
	rc := newReceiver(t)
	f := startAPI(t, rc, "testdata/escalate.flow")
	f.say("c1", "m1", "My parcel is lost")
	id := f.contact("c1").ID
	f.must("POST", "/v2/flowd/contact/id:"+id+"/shortcut", map[string]any{"name": "Escalate", "user": "mia", "form": map[string]any{"reason": "lost parcel"}})
	if got := rc.waitFor(1); got[0].text() != "An agent escalated your case: lost parcel" {
		t.Errorf("message: %q", got[0].text())
	}
	f.waitContact("c1", func(c *store.Contact) bool { return slices.Contains(c.Tags, "Escalated") })
}

// A webhook flow starts from a POST to its URL with its own secret; the
// contact is found, or created, by the email the body holds.
func TestWebhookTriggeredFlow(t *testing.T) {
	f := startAPI(t, newReceiver(t), "testdata/order_shipped.flow")
	body := map[string]any{"customer": map[string]any{"email": "di@example.com"}, "order": map[string]any{"id": "A-17"}}
	if code, out := f.callWith("wrong", "POST", "/v2/flowd/webhooks/order-shipped", body); code != 401 {
		t.Errorf("a wrong secret: %d %v", code, out)
	}
	if code, out := f.callWith("hook-secret", "POST", "/v2/flowd/webhooks/order-shipped", map[string]any{"order": 1}); code != 400 {
		t.Errorf("a body without the email: %d %v", code, out)
	}
	if code, out := f.callWith("hook-secret", "POST", "/v2/flowd/webhooks/nope", body); code != 404 {
		t.Errorf("an unknown webhook: %d %v", code, out)
	}
	if code, out := f.callWith("hook-secret", "POST", "/v2/flowd/webhooks/order-shipped", body); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	c := f.must("GET", "/v2/contact/email:di@example.com", nil)
	if fmt.Sprint(c["tags"]) != "[Shipped]" {
		t.Errorf("contact: %v", c)
	}
	acts := strings.Join(f.activity(fmt.Sprint(c["id"])), "\n")
	if !strings.Contains(acts, "message_out: Your order A-17 has shipped!") {
		t.Errorf("activity:\n%s", acts)
	}
	flows := f.must("GET", "/v2/flowd/flows", nil)["items"].([]any)
	fl := flows[0].(map[string]any)
	if fl["name"] != "Order Shipped" || fl["webhook"] != "/v2/flowd/webhooks/order-shipped" || !strings.Contains(fmt.Sprint(fl["graph"]), "flowchart") {
		t.Errorf("flows: %v", flows)
	}
}
