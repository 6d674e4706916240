package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flowd/flowd/config"
	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/postgres"
	"github.com/flowd/flowd/runtime/store/sqlite"
	"github.com/flowd/flowd/server"
)

// runServe implements `flowd serve`: the service, until SIGINT or SIGTERM.
func runServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, os.Getenv, stdout, stderr)
}

// shutdownGrace is how long a stopping service waits for the requests
// under way.
const shutdownGrace = 30 * time.Second

// serveOptions are serve's flags, each with an environment variable.
// envOr gives a flag's default: the environment variable's value, or def
// when it is unset.
func envOr(getenv func(string) string) func(env, def string) string {
	return func(env, def string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
}

// storeFlag is the --db flag of serve and runs: FLOWD_DB, or DATABASE_URL,
// or the embedded store's flowd.db.
func storeFlag(fl *flag.FlagSet, db *string, getenv func(string) string) {
	or := envOr(getenv)
	fl.StringVar(db, "db", or("FLOWD_DB", or("DATABASE_URL", "flowd.db")),
		"the embedded store's file, or a PostgreSQL URL postgres://... shared by any number of processes (FLOWD_DB, DATABASE_URL)")
}

// openStore opens the store db names: a PostgreSQL URL, or the embedded
// store's file.
func openStore(db string) (store.Store, error) {
	if isPostgres(db) {
		return postgres.Open(db)
	}
	return sqlite.Open(db)
}

type serveOptions struct {
	flows, addr, db, config string
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	or := envOr(getenv)
	fl := newFlags("serve", "flowd serve [--flows DIR] [--addr ADDR] [--db FILE|postgres://...] [--config FILE]",
		"Runs flowd: the flows of a directory on the embedded store or PostgreSQL, behind respond.io's Custom Channel webhook (docs/server.md).", stderr)
	var o serveOptions
	fl.StringVar(&o.flows, "flows", or("FLOWD_FLOWS", "flows"), "the flows' directory (FLOWD_FLOWS)")
	fl.StringVar(&o.addr, "addr", or("FLOWD_ADDR", ":8080"), "the address to listen on (FLOWD_ADDR)")
	storeFlag(fl, &o.db, getenv)
	fl.StringVar(&o.config, "config", or("FLOWD_CONFIG", ""), "the workspace file (FLOWD_CONFIG; default: flowd.toml in the flows' directory, if there is one)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fl.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	slog.SetDefault(log)
	defer profileCPU(getenv)()

	ws, ok := workspace(o, getenv, stderr)
	if !ok {
		return 1
	}
	channels, err := channelsOf(ws, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "flowd serve: %v\n", err)
		return 1
	}
	lib := &server.Library{Dir: o.flows}
	if path := workspacePath(o); path != "" {
		lib.Also = []string{path}
	}
	if !printFlows(lib, stdout, stderr) {
		return 1
	}
	var engine atomic.Pointer[runtime.Engine]
	lib.OnChange = func() { // the workspace file changed
		ws, ok := workspace(o, getenv, stderr)
		if e := engine.Load(); ok && e != nil {
			e.SetLocation(ws.Location)
			e.SetBusinessHours(ws.Hours)
			log.Info("workspace file reloaded: its timezone and business hours apply now, its other settings at the next start")
		}
	}
	apiToken := getenv(ws.API.TokenEnv)
	if apiToken == "" {
		log.Warn("the admin API is off: /v2 answers 401 to every request until " + ws.API.TokenEnv + " is set")
	}
	secrets := map[string]string{}
	for id, env := range ws.Webhooks {
		if secrets[id] = getenv(env); secrets[id] == "" {
			log.Warn("webhook " + id + " is off: " + env + " is not set")
		}
	}
	var teams []string
	for _, t := range ws.Teams {
		teams = append(teams, t.Name)
	}
	leases, err := leasesOf(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "flowd serve: %v\n", err)
		return 1
	}
	st, err := openStore(o.db)
	if err != nil {
		fmt.Fprintf(stderr, "flowd serve: %v\n", err)
		return 1
	}
	defer st.Close()

	opts := server.Options{Store: st, Library: lib, Channels: channels, HTTPAllow: ws.HTTPAllow,
		APIToken: apiToken, Teams: teams, WebhookSecrets: secrets,
		ChannelRate: ws.Limits.Channel, ContactRate: ws.Limits.Contact,
		Retention: runtime.Retention{Dedup: ws.Retention.DedupFor, Activity: ws.Retention.ActivityFor, Outbox: ws.Retention.OutboxFor},
		Engine: runtime.Config{AutoClose: ws.AutoAfter, Location: ws.Location, BusinessHours: ws.Hours, Directory: users(ws),
			TimerLease: leases[0]},
		DeliveryLease: leases[1]}
	if s := ws.Sheets; s != nil {
		opts.Sheets = &runtime.SheetsClient{BaseURL: s.URL, Token: getenv(s.TokenEnv)}
	}
	if a := ws.AI; a != nil {
		opts.AI = &runtime.OpenAIClient{BaseURL: a.URL, Key: getenv(a.KeyEnv), Model: a.Model}
	}
	svc, err := server.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "flowd serve: %v\n", err)
		return 1
	}
	engine.Store(svc.Engine)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		svc.Close()
		fmt.Fprintf(stderr, "flowd serve: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	fmt.Fprintf(stdout, "flowd: listening on %s (store %s)\n", listenURL(ln.Addr()), postgres.Redact(o.db))
	fmt.Fprintf(stdout, "flowd: web chat: open %s/ in a browser to chat with the flows as a new contact\n", listenURL(ln.Addr()))
	for _, ch := range channels {
		fmt.Fprintf(stdout, "flowd: channel %q (%s): webhook %s/custom/channel/webhook/, delivering to %s/message\n",
			ch.ID, ch.Name, listenURL(ln.Addr()), strings.TrimSuffix(ch.URL, "/"))
	}
	if len(channels) == 0 {
		fmt.Fprintf(stdout, "flowd: no channel: set %s, %s and %s, or add [[channels]] to %s\n",
			config.EnvChannelURL, config.EnvChannelToken, config.EnvChannelID, config.FileName)
	}
	srv.RegisterOnShutdown(svc.Server.StopStreams) // the web chat's streams would hold Shutdown
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("stopping: finishing the requests under way")
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		err = srv.Shutdown(sctx)
		cancel()
	}
	svc.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "flowd serve: %v\n", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// workspace reads the workspace file, or the quick-start variables when
// there is none.
func workspace(o serveOptions, getenv func(string) string, stderr io.Writer) (*config.Workspace, bool) {
	path := workspacePath(o)
	ws := config.Default()
	if path != "" {
		var src []byte
		var diags dsl.Diagnostics
		ws, src, diags = config.Load(path)
		dsl.Render(stderr, src, diags)
		if ws == nil {
			return nil, false
		}
	}
	diags := ws.AddQuickStart(getenv)
	dsl.Render(stderr, nil, diags)
	return ws, !diags.HasErrors()
}

// profileCPU writes a CPU profile to FLOWD_CPUPROFILE, if it is set, until
// the function it returns is called: a debugging aid (docs/server.md).
func profileCPU(getenv func(string) string) (stop func()) {
	if path := getenv("FLOWD_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			return func() {
				pprof.StopCPUProfile()
				f.Close()
			}
		}
	}
	return func() {}
}

// leasesOf reads FLOWD_TIMER_LEASE and FLOWD_DELIVERY_LEASE: how long a
// process's claims of timers and of deliveries hold before another process
// takes them over (docs/scaling.md); 0 for the defaults.
func leasesOf(getenv func(string) string) ([2]time.Duration, error) {
	var out [2]time.Duration
	for i, name := range []string{"FLOWD_TIMER_LEASE", "FLOWD_DELIVERY_LEASE"} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second {
				return out, fmt.Errorf("%s=%q: want a duration of at least 1s, such as 30s", name, v)
			}
			out[i] = d
		}
	}
	return out, nil
}

// workspacePath is the workspace file serve reads: --config, or the
// flows' directory's flowd.toml if there is one; "" for none.
func workspacePath(o serveOptions) string {
	if o.config != "" {
		return o.config
	}
	if p := filepath.Join(o.flows, config.FileName); fileExists(p) {
		return p
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// channelsOf are the workspace's channels with their tokens, which come
// from the environment only.
func channelsOf(ws *config.Workspace, getenv func(string) string) ([]server.Channel, error) {
	var out []server.Channel
	for _, ch := range ws.Channels {
		tok := getenv(ch.TokenEnv)
		if tok == "" {
			return nil, fmt.Errorf("channel %q: its token variable %s is not set", ch.ID, ch.TokenEnv)
		}
		out = append(out, server.Channel{ID: ch.ID, Name: ch.Name, URL: ch.URL, Token: tok})
	}
	return out, nil
}

// users are the workspace's users, as the engine's directory.
func users(ws *config.Workspace) runtime.Directory {
	var out runtime.Users
	for _, u := range ws.Users {
		out = append(out, store.User{ID: u.ID, Name: u.Name, Email: u.Email, Teams: u.Teams, Status: u.Status})
	}
	return out
}

// printFlows loads the library's flows, which the service then serves, and
// says what will serve: those with errors are reported with their
// diagnostics and left out.
func printFlows(lib *server.Library, stdout, stderr io.Writer) bool {
	ld, err := lib.Load()
	if err != nil {
		fmt.Fprintf(stderr, "flowd serve: %v\n", err)
		return false
	}
	lib.Commit(ld)
	for _, f := range ld.Files {
		if f.Failed() {
			fmt.Fprintf(stderr, "flowd: not serving %s:\n", f.Path)
			dsl.Render(stderr, f.Source, f.Diags)
			continue
		}
		fmt.Fprintf(stdout, "flowd: flow %q (%s)\n", f.Program.Flow, f.Path)
	}
	fmt.Fprintf(stdout, "flowd: %d of %d flows loaded from %s; editing them reloads them\n", len(ld.Flows), len(ld.Files), lib.Dir)
	return true
}

// listenURL is the URL a listener is reached at.
func listenURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
