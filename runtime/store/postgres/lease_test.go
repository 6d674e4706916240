package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowd/flowd/runtime/store"
)

// A transaction that claims work commits without waiting for the disk
// (see lease); the next one on its connection waits again.
func TestClaimsCommitAsLeases(t *testing.T) {
	db := openTest(t)
	db.db.SetMaxOpenConns(1)
	ctx := context.Background()
	now := time.Now()
	setting := func(tx store.Tx) string {
		var v string
		if err := tx.(*Tx).tx.QueryRowContext(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	claim := func(claim func(store.Tx) (int, error)) (n int, sync string) {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if n, err = claim(tx); err != nil {
			t.Fatal(err)
		}
		return n, setting(tx)
	}
	timers := func(tx store.Tx) (int, error) {
		due, err := tx.ClaimTimers(now, now.Add(time.Minute), 10)
		return len(due), err
	}
	outbound := func(tx store.Tx) (int, error) {
		due, err := tx.ClaimOutbound(now, now.Add(time.Minute), 10)
		return len(due), err
	}
	none := func(store.Tx) (int, error) { return 0, nil }

	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.AddTimer(&store.Timer{ContactID: "c1", Kind: "wait", RunID: 1, At: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Enqueue(&store.Outbound{ContactID: "c1", Lane: "message", Kind: "message", Payload: []byte(`{}`), Status: store.OutPending, NextAt: now.Add(-time.Second), Created: now}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for name, fn := range map[string]func(store.Tx) (int, error){"timers": timers, "outbound": outbound} {
		if n, sync := claim(fn); n != 1 || sync != "off" {
			t.Errorf("%s: claimed %d, synchronous_commit %s; want 1, off", name, n, sync)
		}
		// the next transaction on the one connection waits for the disk again
		if _, sync := claim(none); sync != "on" {
			t.Errorf("after claiming %s: synchronous_commit %s; want on", name, sync)
		}
	}
}

// A claim changes only an item's lease, which no index holds, and the
// outbox's pages keep room for it (migration 004): each claim is a HOT
// update, adding no index entries, even on pages filled at once.
func TestClaimsUpdateInPlace(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Now()
	const items = 200
	payload := []byte(`{"text":"` + strings.Repeat("x", 300) + `"}`) // about a message's size
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if err := tx.Enqueue(&store.Outbound{ContactID: fmt.Sprintf("c%d", i), Lane: "message", Kind: "message", Payload: payload,
			Status: store.OutPending, NextAt: now.Add(-time.Second), Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err = db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	due, err := tx.ClaimOutbound(now, now.Add(time.Minute), items)
	if err != nil {
		t.Fatal(err)
	}
	var updated, hot int
	if err := tx.(*Tx).tx.QueryRowContext(ctx, `SELECT pg_stat_get_xact_tuples_updated('outbox'::regclass),
		pg_stat_get_xact_tuples_hot_updated('outbox'::regclass)`).Scan(&updated, &hot); err != nil {
		t.Fatal(err)
	}
	if len(due) != items || updated != items || hot != items {
		t.Errorf("claimed %d items in %d updates, %d of them HOT; want %d, all HOT", len(due), updated, hot, items)
	}
}
