package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// Options are what a Service runs on.
type Options struct {
	Store    store.Store
	Flows    []runtime.Flow
	Engine   runtime.Config
	Channels []Channel
	// HTTP makes the calls of http steps; nil is a runtime.HTTPClient
	// whose transport refuses private addresses but those of HTTPAllow.
	HTTP      runtime.HTTPCaller
	HTTPAllow []string
	Sheets    runtime.SheetAppender
	AI        runtime.AIAgent
	// Workers is how many outbox items are carried out at once; 0 is
	// DefaultWorkers.
	Workers int
	// ChannelClient makes the channels' delivery calls; nil is a client
	// with runtime.DeliveryTimeout.
	ChannelClient *http.Client
	// Backoff is the wait before a delivery's next try; nil is
	// runtime.Backoff. Tests shorten it.
	Backoff func(n int) time.Duration
	// DeliveryLease is how long an outbox item this process claimed is
	// left to it before another process may take it; 0 is
	// runtime.ClaimLease. (The timers' lease is Engine.TimerLease.)
	DeliveryLease time.Duration
	// The webhook's rate limits: see Config.
	ChannelRate, ContactRate float64
	// Retention is pruned at start and every PruneEvery.
	Retention runtime.Retention
	// Library, when set, is the directory of flows the service serves,
	// in place of Flows and Info, reloaded as its files change: what it
	// committed last, or, when it committed nothing, what it loads now.
	Library *Library
	// OnReload, when set, is told of each reload of the Library's flows.
	OnReload func(*Loaded, error)
	// APIToken, Info, Teams and WebhookSecrets: see Config.
	APIToken       string
	Info           []FlowInfo
	Teams          []string
	WebhookSecrets map[string]string
}

// PruneEvery is how often a service deletes what is past its retention.
const PruneEvery = time.Hour

// DefaultWorkers is how many outbox items a service carries out at once.
const DefaultWorkers = 64

// A Service is flowd running: the engine, the Writer that shares its
// commits, the loops that fire timers and carry out the outbox, and the
// HTTP server in front.
type Service struct {
	Engine     *runtime.Engine
	Writer     *runtime.Writer
	Dispatcher *runtime.Dispatcher
	Server     *Server

	cancel context.CancelFunc
	loops  sync.WaitGroup
}

// Start starts a service: the engine on the store with the flows, and its
// loops, which run until Close.
func Start(ctx context.Context, opts Options) (*Service, error) {
	var metrics *Metrics
	var e *runtime.Engine
	metrics = NewMetrics(func(ctx context.Context) (int, error) { return e.OutboxDepth(ctx) })
	cfg := opts.Engine
	if cfg.Meter == nil {
		cfg.Meter = metrics
	}
	flows := opts.Flows
	var loaded *Loaded
	if lib := opts.Library; lib != nil {
		if loaded = lib.loaded(); loaded == nil { // not loaded to say what serves
			var err error
			if loaded, err = lib.Load(); err != nil {
				return nil, err
			}
		}
		flows = loaded.Flows
	}
	e, err := runtime.New(ctx, opts.Store, flows, cfg)
	if err != nil {
		return nil, err
	}
	if loaded != nil {
		opts.Library.Commit(loaded)
		metrics.reloaded(loaded, nil)
	}
	workers := opts.Workers
	if workers == 0 {
		workers = DefaultWorkers
	}
	client := opts.ChannelClient
	if client == nil { // connections kept for every worker: a dial per delivery would cost more than the delivery
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = workers
		client = &http.Client{Transport: t, Timeout: runtime.DeliveryTimeout}
	}
	channels := runtime.Channels{WebChatChannel: webChatChannel{}}
	for _, ch := range opts.Channels {
		channels[ch.ID] = &runtime.CustomChannel{ID: ch.ID, URL: ch.URL, Token: ch.Token, Client: client}
	}
	caller := opts.HTTP
	if caller == nil {
		caller = &runtime.HTTPClient{Transport: runtime.GuardedTransport(opts.HTTPAllow)}
	}
	s := &Service{Engine: e, Writer: e.NewWriter(0)}
	s.Dispatcher = &runtime.Dispatcher{Engine: e, Channel: channels, HTTP: caller, Sheets: opts.Sheets, AI: opts.AI, Jitter: true, Backoff: opts.Backoff,
		Lease: opts.DeliveryLease}
	s.Server = New(Config{Engine: e, Channels: opts.Channels, Submit: s.Writer.SubmitAll, Ready: s.ready,
		ChannelRate: opts.ChannelRate, ContactRate: opts.ContactRate, APIToken: opts.APIToken, Flows: opts.Info,
		Teams: opts.Teams, WebhookSecrets: opts.WebhookSecrets, Metrics: metrics, Library: opts.Library})
	loops, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.loops.Add(3)
	go func() {
		defer s.loops.Done()
		s.prune(loops, opts.Retention)
	}()
	go func() {
		defer s.loops.Done()
		e.RunTimers(loops)
	}()
	go func() {
		defer s.loops.Done()
		s.Dispatcher.Run(loops, workers, s.Writer.SubmitAll)
	}()
	if lib := opts.Library; lib != nil {
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			err := lib.Watch(loops, e, func(ld *Loaded, err error) {
				logReload(ld, err)
				metrics.reloaded(ld, err)
				if opts.OnReload != nil {
					opts.OnReload(ld, err)
				}
			})
			if err != nil {
				slog.Error("flows: not watching "+lib.Dir, "err", err)
			}
		}()
	}
	return s, nil
}

// prune deletes what is past its retention, now and every PruneEvery.
func (s *Service) prune(ctx context.Context, r runtime.Retention) {
	if r == (runtime.Retention{}) {
		return
	}
	t := time.NewTicker(PruneEvery)
	defer t.Stop()
	for {
		n, err := s.Engine.Prune(ctx, r)
		switch {
		case err != nil && ctx.Err() == nil:
			slog.Error("retention: pruning", "err", err)
		case n > 0:
			slog.Info("retention: pruned", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Handler is the service's HTTP handler.
func (s *Service) Handler() http.Handler { return s.Server.Handler() }

// ready reports whether the store answers.
func (s *Service) ready(ctx context.Context) error {
	_, _, err := s.Engine.NextTimer(ctx)
	return err
}

// Close stops the loops, waits for the deliveries under way to be
// recorded, and closes the Writer once what was handed to it is
// committed. The HTTP server in front must have stopped first; the store
// is the caller's to close.
func (s *Service) Close() {
	s.cancel()
	s.loops.Wait()
	s.Writer.Close()
}
