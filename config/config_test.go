package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flowd/flowd/config"
)

const good = `# the workspace
timezone = "Asia/Kuala_Lumpur"
business_hours = "mon-fri 08:30-17:30, sat 10:00-14:00"
auto_close = "7d"
http_allow = ["crm.internal", "127.0.0.1"]

[api]
token_env = "ADMIN_TOKEN"

[[channels]]
id = "sms1"
name = "sms"
url = "https://sms.example.com/api"
token_env = "SMS_TOKEN"

[[teams]]
name = "Support"

[[users]]
name = "Ana"
email = "ana@example.com"
teams = ["Support"]
status = "online"

[ai]
model = "gpt-4o-mini"
key_env = "OPENAI_API_KEY"

[retention]
activity = "90d"
`

func TestGoodWorkspace(t *testing.T) {
	w, diags := config.Parse("flowd.toml", []byte(good))
	if len(diags) > 0 || w == nil {
		t.Fatalf("diagnostics: %v", diags)
	}
	if w.Location.String() != "Asia/Kuala_Lumpur" || w.AutoAfter != 7*24*time.Hour || w.API.TokenEnv != "ADMIN_TOKEN" {
		t.Errorf("workspace: %+v", w)
	}
	if len(w.Hours) != 2 || w.Hours[0].From != 8*60+30 || !w.Hours[1].Days[time.Saturday] || w.Hours[1].Days[time.Sunday] {
		t.Errorf("business hours: %+v", w.Hours)
	}
	if u := w.Users[0]; u.ID != "ana@example.com" || u.Status != "online" || u.Teams[0] != "Support" {
		t.Errorf("user: %+v", u)
	}
	if w.AI.URL != config.DefaultAIURL || w.Retention.ActivityFor != 90*24*time.Hour || w.Retention.DedupFor != 30*24*time.Hour {
		t.Errorf("defaults: ai %+v, retention %+v", w.AI, w.Retention)
	}
}

// Each mistake is reported at its line and column, with what is wanted.
func TestWorkspaceErrorsArePositioned(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"syntax", "timezone = \n", "flowd.toml:1:"},
		{"unknown key", "timezone = \"UTC\"\ncolour = \"red\"\n", `flowd.toml:2:1: error: unknown key "colour"`},
		{"unknown key in a table", "[[channels]]\nid = \"a\"\nname = \"sms\"\nurl = \"https://x\"\ntoken_env = \"T\"\ntokn = \"x\"\n", `flowd.toml:6:1: error: unknown key "channels.tokn"`},
		{"wrong type", "http_allow = \"x\"\n", "flowd.toml:1:"},
		{"timezone", "\n\ntimezone = \"Mars/Olympus\"\n", `flowd.toml:3:12: error: unknown timezone "Mars/Olympus"`},
		{"auto close", "auto_close = \"soon\"\n", `flowd.toml:1:14: error: auto_close "soon"`},
		{"business hours", "business_hours = \"mon-fry 09:00-18:00\"\n", `flowd.toml:1:18: error: business_hours: unknown weekday "fry"`},
		{"business hours, not hours", "business_hours = \"always\"\n", `flowd.toml:1:18: error: business_hours:`},
		{"channel name", "[[channels]]\nid = \"a\"\nname = \"pigeon\"\nurl = \"https://x\"\ntoken_env = \"T\"\n", `flowd.toml:3:8: error: channel name "pigeon"`},
		{"second channel's url", "[[channels]]\nid = \"a\"\nname = \"sms\"\nurl = \"https://x\"\ntoken_env = \"T\"\n[[channels]]\nid = \"b\"\nname = \"sms\"\nurl = \"ftp://x\"\ntoken_env = \"T\"\n",
			`flowd.toml:9:7: error: "ftp://x": want an http or https URL`},
		{"duplicate channel", "[[channels]]\nid = \"a\"\nname = \"sms\"\nurl = \"https://x\"\ntoken_env = \"T\"\n[[channels]]\nid = \"a\"\nname = \"sms\"\nurl = \"https://x\"\ntoken_env = \"T\"\n",
			`flowd.toml:7:6: error: a second channel with id "a"`},
		{"secret in the file", "[[channels]]\nid = \"a\"\nname = \"sms\"\nurl = \"https://x\"\ntoken_env = \"sk-live-123\"\n", `flowd.toml:5:13: error: "sk-live-123" is not an environment variable name`},
		{"credentials in a url", "[ai]\nurl = \"https://me:pw@ai.example.com\"\nmodel = \"m\"\n", `flowd.toml:2:7: error: "https://me:pw@ai.example.com": a URL must not hold credentials`},
		{"user's team", "[[teams]]\nname = \"Sales\"\n[[users]]\nemail = \"a@example.com\"\nteams = [\"Sales\", \"Suport\"]\n", `flowd.toml:5:19: error: user "a@example.com": no team "Suport"`},
		{"user's status", "[[users]]\nemail = \"a@example.com\"\nstatus = \"busy\"\n", `flowd.toml:3:10: error: status "busy"`},
		{"user without email", "[[users]]\nname = \"Ana\"\n", `flowd.toml:1:1: error: users: email is required`},
		{"retention", "[retention]\ndedup = \"1h\"\n", `flowd.toml:2:9: error: retention.dedup: at least 1d`},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, diags := config.Parse("flowd.toml", []byte(c.src))
			var b strings.Builder
			for _, d := range diags {
				b.WriteString(d.Pos.String() + ": " + d.Severity.String() + ": " + d.Summary + "\n")
			}
			if w != nil || !strings.Contains(b.String(), c.want) {
				t.Errorf("got %v and\n%s\nwant a line with %q", w, b.String(), c.want)
			}
		})
	}
}

func TestQuickStart(t *testing.T) {
	env := map[string]string{config.EnvChannelURL: "https://integration.example.com", config.EnvChannelID: "abc"}
	w := config.Default()
	if diags := w.AddQuickStart(func(k string) string { return env[k] }); len(diags) > 0 || len(w.Channels) != 1 {
		t.Fatalf("%v %+v", diags, w)
	}
	if ch := w.Channels[0]; ch.ID != "abc" || ch.Name != "custom" || ch.TokenEnv != config.EnvChannelToken {
		t.Errorf("channel: %+v", ch)
	}
	if diags := w.AddQuickStart(func(k string) string { return env[k] }); !diags.HasErrors() || len(w.Channels) != 1 {
		t.Errorf("the same id twice: %v, %+v", diags, w.Channels)
	}
	env[config.EnvChannelURL] = "ftp://x"
	env[config.EnvChannelID] = "other"
	if diags := w.AddQuickStart(func(k string) string { return env[k] }); !diags.HasErrors() || len(w.Channels) != 1 {
		t.Errorf("a bad URL: %v", diags)
	}
	w = config.Default()
	if w.AddQuickStart(func(string) string { return "" }); len(w.Channels) != 0 || w.API.TokenEnv != config.DefaultAPITokenEnv || w.Location != time.UTC {
		t.Errorf("no variables: %+v", w)
	}
}
