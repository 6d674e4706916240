package server_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowd/flowd/server"
)

// greeter is a flow whose texts say its version.
func greeter(version string) string {
	return `flow "Greeter"
trigger conversation opened by contact

send "Hello from ` + version + `"
ask "Your name?" save Name timeout 1h
send "Bye ${Name} from ` + version + `"
`
}

// TestHotReload: flowd serves a directory's flows as its files change,
// however an editor saves them. A run paused before an edit finishes on the
// version it paused in; a file with errors keeps its last good version
// serving and says why; a deleted flow starts no new runs, and its paused
// runs finish.
func TestHotReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "greeter.flow")
	if err := os.WriteFile(path, []byte(greeter("v1")), 0o644); err != nil {
		t.Fatal(err)
	}
	reloads := make(chan *server.Loaded, 10)
	var wrote time.Time
	rc := newReceiver(t)
	f := startFlowdWith(t, server.Options{APIToken: apiToken, Library: &server.Library{Dir: dir},
		OnReload: func(ld *server.Loaded, err error) {
			if err != nil {
				t.Errorf("reload: %v", err)
			}
			reloads <- ld
		}}, rc)
	// edit changes the file as an editor would, and waits for the reload
	edit := func(how string, change func()) *server.Loaded {
		t.Helper()
		wrote = time.Now()
		change()
		select {
		case ld := <-reloads:
			t.Logf("%s: serving %v after %v", how, len(ld.Flows), time.Since(wrote).Round(time.Millisecond))
			return ld
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no reload", how)
			return nil
		}
	}
	texts := func(contact string) []string {
		var out []string
		for _, m := range rc.received() {
			if m.ContactID == contact {
				out = append(out, m.text())
			}
		}
		return out
	}
	says := func(contact, mid, text string, want ...string) {
		t.Helper()
		before := len(texts(contact))
		f.say(contact, mid, text)
		f.eventually(func() bool { return len(texts(contact)) >= before+len(want) }, func() string {
			return contact + " got " + strings.Join(texts(contact), " | ") + "; want also " + strings.Join(want, " | ")
		})
		if got := texts(contact)[before:]; strings.Join(got, " | ") != strings.Join(want, " | ") {
			t.Errorf("%s says %q: got %q, want %q", contact, text, got, want)
		}
	}

	says("c1", "m1", "hi", "Hello from v1", "Your name?")
	edit("written in place", func() { os.WriteFile(path, []byte(greeter("v2")), 0o644) })
	says("c2", "m2", "hi", "Hello from v2", "Your name?")
	says("c1", "m3", "Ana", "Bye Ana from v1") // paused in v1: finishes in v1

	ld := edit("replaced by a broken file renamed over it", func() {
		tmp := filepath.Join(dir, ".greeter.flow.swp")
		os.WriteFile(tmp, []byte(greeter("v3")+"send\n"), 0o644)
		os.Rename(tmp, path)
	})
	if len(ld.Stale) != 1 || len(ld.Flows) != 1 {
		t.Errorf("a broken edit: stale %v, serving %d flows; want its last good version serving", ld.Stale, len(ld.Flows))
	}
	code, out := f.callWith(apiToken, http.MethodGet, "/v2/flowd/flows", nil)
	items, _ := out["items"].([]any)
	if code != 200 || len(items) != 1 {
		t.Fatalf("GET /v2/flowd/flows: %d %v", code, out)
	}
	info := items[0].(map[string]any)
	if info["serving"] != true || info["stale"] != true || len(info["diagnostics"].([]any)) == 0 || !strings.Contains(info["diagnostics"].([]any)[0].(string), "greeter.flow:8:") {
		t.Errorf("the broken file, as the admin API shows it: %v", info)
	}
	says("c3", "m4", "hi", "Hello from v2", "Your name?")

	edit("deleted", func() { os.Remove(path) })
	f.say("c4", "m5", "hi")
	says("c3", "m6", "Bo", "Bye Bo from v2") // the deleted flow's paused run finishes
	if got := texts("c4"); len(got) != 0 {
		t.Errorf("a deleted flow greeted a new contact: %q", got)
	}
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if body := string(b); !strings.Contains(body, `flowd_flow_reloads_total{result="ok"} 4`) || !strings.Contains(body, "flowd_flows_with_errors 0") {
		t.Errorf("metrics: the start and three reloads counted ok, no file with errors left:\n%s", grepLines(body, "flowd_flow"))
	}
}

// grepLines are the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMigrateThroughTheAPI: after an edit, POST /v2/flowd/flows/{flow}/migrate
// shows which paused runs would move to the new version (a dry run), then
// moves them by label; a run whose label is gone stays, with the reason.
func TestMigrateThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "survey.flow")
	survey := func(version string, mood bool) string {
		src := "flow \"Survey\"\ntrigger conversation opened by contact\n\nname: ask \"Your name?\" save Name timeout 1h\n"
		if mood {
			src += "mood: ask \"How are you?\" save Mood timeout 1h\n"
		}
		return src + "send \"Thanks ${Name} (" + version + ")\"\n"
	}
	os.WriteFile(path, []byte(survey("v1", true)), 0o644)
	reloads := make(chan struct{}, 10)
	rc := newReceiver(t)
	f := startFlowdWith(t, server.Options{APIToken: apiToken, Library: &server.Library{Dir: dir},
		OnReload: func(*server.Loaded, error) { reloads <- struct{}{} }}, rc)
	f.say("c1", "m1", "hi") // waits at name
	f.say("c2", "m2", "hi")
	f.say("c2", "m3", "Bo") // waits at mood
	rc.waitFor(3)
	os.WriteFile(path, []byte(survey("v2", false)), 0o644)
	<-reloads

	migrate := func(apply bool) map[string]any {
		t.Helper()
		code, out := f.call(http.MethodPost, "/v2/flowd/flows/Survey/migrate", map[string]any{"apply": apply})
		if code != 200 {
			t.Fatalf("migrate (apply %v): %d %v", apply, code, out)
		}
		return out
	}
	dry := migrate(false)
	items, _ := dry["items"].([]any)
	if dry["moved"] != 1.0 || dry["left"] != 1.0 || dry["applied"] != false || dry["next"] != 0.0 || len(items) != 2 ||
		items[1].(map[string]any)["reason"] != "label mood is gone" {
		t.Errorf("dry run: %v", dry)
	}
	if out := migrate(true); out["moved"] != 1.0 || out["applied"] != true {
		t.Errorf("applied: %v", out)
	}
	f.say("c1", "m4", "Ana")
	f.say("c2", "m5", "fine")
	got := map[string]string{}
	for _, m := range rc.waitFor(5)[3:] {
		got[m.ContactID] = m.text()
	}
	if got["c1"] != "Thanks Ana (v2)" || got["c2"] != "Thanks Bo (v1)" {
		t.Errorf("after the migration: %v; want c1 on v2, c2 on v1", got)
	}
	if code, out := f.call(http.MethodPost, "/v2/flowd/flows/Survey/migrate", map[string]any{"limit": 1_000_000}); code != 400 {
		t.Errorf("a page past the bound: %d %v", code, out)
	}
	if code, out := f.call(http.MethodPost, "/v2/flowd/flows/Nope/migrate", nil); code != 404 {
		t.Errorf("an unknown flow: %d %v", code, out)
	}
}

// TestReloadWhileWritten: a file written again and again, faster than the
// debounce, still reloads (at least every server.MaxDebounce) rather than
// waiting for the writes to stop.
func TestReloadWhileWritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "greeter.flow")
	os.WriteFile(path, []byte(greeter("v1")), 0o644)
	reloads := make(chan struct{}, 100)
	startFlowdWith(t, server.Options{Library: &server.Library{Dir: dir},
		OnReload: func(*server.Loaded, error) { reloads <- struct{}{} }}, nil)
	stop := make(chan struct{})
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				os.WriteFile(path, []byte(greeter(fmt.Sprint("v", i))), 0o644)
			}
		}
	}()
	select {
	case <-reloads:
	case <-time.After(3 * time.Second):
		t.Error("no reload while the file was written every 10 ms")
	}
	close(stop)
	<-writing
}
