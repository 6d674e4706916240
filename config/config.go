// Package config owns the workspace configuration: flowd.toml beside the
// flows, in TOML (github.com/pelletier/go-toml/v2), read when flowd serve
// starts and checked by flowd check with file:line:col. It holds what the
// flows do not: users and teams, channels, the timezone, auto-close, the
// HTTP allow-list, the Sheets and AI endpoints and retention. Secrets never
// appear in it: it names the environment variables that hold them.
// docs/server.md describes every key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/interpreter"
	"github.com/pelletier/go-toml/v2"
)

// FileName is the workspace file's name, in the flows directory.
const FileName = "flowd.toml"

// MaxFileSize bounds the workspace file.
const MaxFileSize = 1 << 20

// A Workspace is the configuration, checked.
type Workspace struct {
	Timezone string         `toml:"timezone"`
	Location *time.Location `toml:"-"` // Timezone loaded; UTC when none
	// BusinessHours are the workspace's, as a during step writes opening
	// hours ("mon-fri 09:00-18:00, sat 10:00-14:00"), in its timezone:
	// what `during business hours` checks. Default mon-fri 09:00-18:00.
	BusinessHours string                  `toml:"business_hours"`
	Hours         []interpreter.HoursSpec `toml:"-"` // BusinessHours read; nil is the default
	// AutoClose closes a conversation this long after an agent's last
	// message: "24h" (the default), "30m", "7d", or "never".
	AutoClose string        `toml:"auto_close"`
	AutoAfter time.Duration `toml:"-"` // AutoClose: 0 the default, -1 never
	// HTTPAllow are the hosts http steps may call although they resolve
	// to private, loopback or link-local addresses.
	HTTPAllow []string `toml:"http_allow"`

	API       API       `toml:"api"`
	Channels  []Channel `toml:"channels"`
	Teams     []Team    `toml:"teams"`
	Users     []User    `toml:"users"`
	Sheets    *Sheets   `toml:"sheets"`
	AI        *AI       `toml:"ai"`
	Retention Retention `toml:"retention"`
	Limits    Limits    `toml:"limits"`
	// Webhooks name, by webhook id (the flow's name in lower case, with
	// dashes: "order-shipped"), the variable holding each webhook flow's
	// secret: a webhook flow without one is not served.
	Webhooks map[string]string `toml:"webhooks"`
}

// Limits are the webhook's rate limits, requests a second: per channel
// (bursts to twice that) and per contact (bursts to four times).
type Limits struct {
	Channel float64 `toml:"channel"` // default 1000
	Contact float64 `toml:"contact"` // default 5
}

// API is the admin API's settings.
type API struct {
	TokenEnv string `toml:"token_env"` // default FLOWD_API_TOKEN
}

// A Channel is a custom channel: an integration server speaking
// respond.io's Custom Channel protocol.
type Channel struct {
	ID       string `toml:"id"`
	Name     string `toml:"name"` // the channel flows see: custom, sms, whatsapp, ...
	URL      string `toml:"url"`  // the integration server's API base URL
	TokenEnv string `toml:"token_env"`
}

// A Team is a team users are in.
type Team struct {
	Name string `toml:"name"`
}

// A User is an agent.
type User struct {
	ID     string   `toml:"id"` // default: the email
	Name   string   `toml:"name"`
	Email  string   `toml:"email"`
	Teams  []string `toml:"teams"`
	Status string   `toml:"status"` // online, away, offline (the default)
}

// Sheets is the Google Sheets API flowd appends rows with.
type Sheets struct {
	URL      string `toml:"url"` // default https://sheets.googleapis.com
	TokenEnv string `toml:"token_env"`
}

// AI is the OpenAI-compatible chat-completions endpoint of ai steps.
type AI struct {
	URL    string `toml:"url"` // default https://api.openai.com/v1
	Model  string `toml:"model"`
	KeyEnv string `toml:"key_env"`
}

// Retention says how long records are kept: durations such as "30d".
type Retention struct {
	Dedup    string `toml:"dedup"`    // inbound de-duplication keys; default 30d
	Activity string `toml:"activity"` // contacts' activity; default 365d
	Outbox   string `toml:"outbox"`   // delivered outbox rows; default 30d

	DedupFor, ActivityFor, OutboxFor time.Duration `toml:"-"`
}

// Defaults.
const (
	DefaultAPITokenEnv = "FLOWD_API_TOKEN"
	DefaultSheetsURL   = "https://sheets.googleapis.com"
	DefaultAIURL       = "https://api.openai.com/v1"
)

// Load reads and checks the workspace file at path.
func Load(path string) (*Workspace, []byte, dsl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, dsl.Diagnostics{{Severity: dsl.Error, Pos: lexer.Position{Filename: path}, Summary: err.Error()}}
	}
	w, diags := Parse(path, src)
	return w, src, diags
}

// Parse checks a workspace file's source; name is what positions carry.
// It returns the workspace when there are no errors.
func Parse(name string, src []byte) (*Workspace, dsl.Diagnostics) {
	if len(src) > MaxFileSize {
		return nil, dsl.Diagnostics{{Severity: dsl.Error, Pos: lexer.Position{Filename: name}, Summary: fmt.Sprintf("the file is over %d bytes", MaxFileSize)}}
	}
	var w Workspace
	dec := toml.NewDecoder(bytes.NewReader(src)).DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, decodeErrors(name, err)
	}
	c := &checker{name: name, pos: positions(name, src)}
	c.check(&w)
	if c.diags.HasErrors() {
		return nil, c.diags
	}
	return &w, c.diags
}

// decodeErrors are the decoder's errors as diagnostics.
func decodeErrors(name string, err error) dsl.Diagnostics {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var out dsl.Diagnostics
		for _, e := range strict.Errors {
			line, col := e.Position()
			out = append(out, &dsl.Diagnostic{Severity: dsl.Error, Pos: lexer.Position{Filename: name, Line: line, Column: col},
				Summary: fmt.Sprintf("unknown key %q", strings.Join(e.Key(), "."))})
		}
		return out
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return dsl.Diagnostics{{Severity: dsl.Error, Pos: lexer.Position{Filename: name, Line: line, Column: col},
			Summary: strings.TrimPrefix(de.Error(), "toml: ")}}
	}
	return dsl.Diagnostics{{Severity: dsl.Error, Pos: lexer.Position{Filename: name, Line: 1, Column: 1}, Summary: err.Error()}}
}

type checker struct {
	name  string
	pos   map[string]lexer.Position
	diags dsl.Diagnostics
}

// errorf reports an error at the key path's value, or at the nearest
// enclosing key the file has.
func (c *checker) errorf(path, format string, args ...any) {
	c.report(dsl.Error, path, format, args...)
}

func (c *checker) report(sev dsl.Severity, path, format string, args ...any) {
	pos, ok := c.pos[path]
	for p := path; !ok && p != ""; {
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
		pos, ok = c.pos[p]
	}
	if !ok {
		pos = lexer.Position{Filename: c.name, Line: 1, Column: 1}
	}
	c.diags = append(c.diags, &dsl.Diagnostic{Severity: sev, Pos: pos, Summary: fmt.Sprintf(format, args...)})
}

var (
	idChars   = regexp.MustCompile(`^[A-Za-z0-9_=+/@.-]{1,50}$`)
	webhookID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	envName   = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	statuses  = []string{"online", "away", "offline"}
)

func (c *checker) check(w *Workspace) {
	w.Location = time.UTC
	if w.Timezone != "" {
		loc, err := time.LoadLocation(w.Timezone)
		if err != nil || strings.HasPrefix(w.Timezone, "/") {
			c.errorf("timezone", "unknown timezone %q: want an IANA name such as \"Asia/Kuala_Lumpur\"", w.Timezone)
		} else {
			w.Location = loc
		}
	}
	if w.BusinessHours != "" {
		hours, diags := dsl.ParseHours(w.BusinessHours)
		for _, d := range diags {
			c.errorf("business_hours", "business_hours: %s", d.Summary)
		}
		w.Hours = interpreter.HoursSpecs(hours)
	}
	switch w.AutoClose {
	case "":
	case "never":
		w.AutoAfter = -1
	default:
		d, err := Duration(w.AutoClose)
		if err != nil || d <= 0 {
			c.errorf("auto_close", "auto_close %q: want a duration such as \"24h\" or \"7d\", or \"never\"", w.AutoClose)
		}
		w.AutoAfter = d
	}
	for i, h := range w.HTTPAllow {
		if h == "" || strings.ContainsAny(h, "/: ") && !strings.HasPrefix(h, "[") {
			c.errorf(fmt.Sprintf("http_allow[%d]", i), "http_allow: %q is not a host name or address", h)
		}
	}
	c.env("api.token_env", w.API.TokenEnv)
	if w.API.TokenEnv == "" {
		w.API.TokenEnv = DefaultAPITokenEnv
	}
	c.channels(w.Channels)
	c.people(w)
	if s := w.Sheets; s != nil {
		if s.URL == "" {
			s.URL = DefaultSheetsURL
		}
		c.url("sheets.url", s.URL)
		c.env("sheets.token_env", s.TokenEnv)
		if s.TokenEnv == "" {
			c.errorf("sheets", "sheets: token_env is required (the variable holding the API token)")
		}
	}
	if a := w.AI; a != nil {
		if a.URL == "" {
			a.URL = DefaultAIURL
		}
		c.url("ai.url", a.URL)
		c.env("ai.key_env", a.KeyEnv)
		if a.Model == "" {
			c.errorf("ai", "ai: model is required")
		}
	}
	if l := w.Limits; l.Channel < 0 || l.Contact < 0 || l.Channel > 1e6 || l.Contact > 1e6 {
		c.errorf("limits", "limits: requests a second, from 0 (the default) to 1000000")
	}
	for id, env := range w.Webhooks {
		if !webhookID.MatchString(id) {
			c.errorf("webhooks."+id, "webhook id %q: want a-z, 0-9 and dashes, as the flow's name gives it", id)
		}
		if env == "" {
			c.errorf("webhooks."+id, "webhook %q: name the variable holding its secret", id)
		}
		c.env("webhooks."+id, env)
	}
	r := &w.Retention
	r.DedupFor = c.retention("retention.dedup", r.Dedup, 30*24*time.Hour)
	r.ActivityFor = c.retention("retention.activity", r.Activity, 365*24*time.Hour)
	r.OutboxFor = c.retention("retention.outbox", r.Outbox, 30*24*time.Hour)
	if r.DedupFor < 24*time.Hour {
		c.errorf("retention.dedup", "retention.dedup: at least 1d, or a sender's retry would be taken as new")
	}
}

func (c *checker) channels(chs []Channel) {
	ids := map[string]int{}
	names := dsl.ChannelNames()
	for i, ch := range chs {
		at := fmt.Sprintf("channels[%d]", i)
		switch {
		case ch.ID == "":
			c.errorf(at, "channels: id is required")
		case !idChars.MatchString(ch.ID):
			c.errorf(at+".id", "channel id %q: at most 50 of A-Z a-z 0-9 _ = + / @ . -", ch.ID)
		default:
			if j, dup := ids[ch.ID]; dup {
				c.errorf(at+".id", "a second channel with id %q (the first is channels[%d])", ch.ID, j)
			}
			ids[ch.ID] = i
		}
		if ch.Name == "" {
			c.errorf(at, "channel %q: name is required: the channel flows see, one of %s", ch.ID, strings.Join(names, ", "))
		} else if !slices.Contains(names, ch.Name) {
			c.errorf(at+".name", "channel name %q: want one of %s", ch.Name, strings.Join(names, ", "))
		}
		if ch.URL == "" {
			c.errorf(at, "channel %q: url is required (the integration server's API base URL)", ch.ID)
		} else {
			c.url(at+".url", ch.URL)
		}
		if ch.TokenEnv == "" {
			c.errorf(at, "channel %q: token_env is required (the variable holding the channel's API token)", ch.ID)
		}
		c.env(at+".token_env", ch.TokenEnv)
	}
}

func (c *checker) people(w *Workspace) {
	teams := map[string]bool{}
	for i, t := range w.Teams {
		at := fmt.Sprintf("teams[%d]", i)
		switch {
		case strings.TrimSpace(t.Name) == "":
			c.errorf(at, "teams: name is required")
		case teams[t.Name]:
			c.errorf(at+".name", "a second team named %q", t.Name)
		}
		teams[t.Name] = true
	}
	ids := map[string]bool{}
	for i := range w.Users {
		u := &w.Users[i]
		at := fmt.Sprintf("users[%d]", i)
		if u.Email == "" {
			c.errorf(at, "users: email is required")
		} else if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			c.errorf(at+".email", "%q is not an email address", u.Email)
		}
		if u.ID == "" {
			u.ID = u.Email
		}
		if ids[u.ID] {
			c.errorf(at, "a second user %q", u.ID)
		}
		ids[u.ID] = true
		if u.Name == "" {
			u.Name = u.Email
		}
		for j, t := range u.Teams {
			if !teams[t] {
				c.errorf(fmt.Sprintf("%s.teams[%d]", at, j), "user %q: no team %q in [[teams]]", u.Email, t)
			}
		}
		if u.Status == "" {
			u.Status = "offline"
		} else if !slices.Contains(statuses, u.Status) {
			c.errorf(at+".status", "status %q: want online, away or offline", u.Status)
		}
	}
}

func (c *checker) url(path, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.errorf(path, "%q: want an http or https URL", s)
		return
	}
	if u.User != nil {
		c.errorf(path, "%q: a URL must not hold credentials: name an environment variable instead", s)
	}
}

func (c *checker) env(path, name string) {
	if name != "" && !envName.MatchString(name) {
		c.errorf(path, "%q is not an environment variable name (A-Z, 0-9 and _): secrets are never written in this file", name)
	}
}

func (c *checker) retention(path, s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := Duration(s)
	if err != nil || d <= 0 {
		c.errorf(path, "%q: want a duration such as \"30d\" or \"12h\"", s)
		return def
	}
	return d
}

// Duration reads a duration as Go writes one ("90m", "1h30m") or in whole
// days ("7d").
func Duration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*365 {
			return 0, fmt.Errorf("%q: not a number of days", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// Quick-start variables: with or without a workspace file, these define
// one custom channel more.
const (
	EnvChannelURL   = "FLOWD_CHANNEL_URL"
	EnvChannelToken = "FLOWD_CHANNEL_TOKEN"
	EnvChannelID    = "FLOWD_CHANNEL_ID"
)

// Default is the workspace of a start without a file.
func Default() *Workspace {
	w := &Workspace{}
	c := &checker{name: "default", pos: map[string]lexer.Position{}}
	c.check(w)
	return w
}

// AddQuickStart adds the channel the quick-start variables define, if
// FLOWD_CHANNEL_URL is set, to the workspace's.
func (w *Workspace) AddQuickStart(getenv func(string) string) dsl.Diagnostics {
	u := getenv(EnvChannelURL)
	if u == "" {
		return nil
	}
	id := getenv(EnvChannelID)
	if id == "" {
		id = "custom"
	}
	for _, ch := range w.Channels {
		if ch.ID == id {
			return dsl.Diagnostics{{Severity: dsl.Error, Pos: lexer.Position{Filename: EnvChannelID},
				Summary: fmt.Sprintf("channel %q is in the workspace file already: set %s to another id", id, EnvChannelID)}}
		}
	}
	ch := Channel{ID: id, Name: "custom", URL: u, TokenEnv: EnvChannelToken}
	c := &checker{name: "environment", pos: map[string]lexer.Position{}}
	c.channels([]Channel{ch})
	for _, d := range c.diags {
		d.Summary = "quick start (" + EnvChannelURL + ", " + EnvChannelID + "): " + d.Summary
	}
	if !c.diags.HasErrors() {
		w.Channels = append(w.Channels, ch)
	}
	return c.diags
}
