package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/flowd/flowd/runtime/store"
)

// The entries one commit added stay together under retention until the
// newest of them is past, in whatever order their times come.
func TestActivityPrunedByNewestEntry(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	add := func(ats ...time.Time) {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for _, at := range ats {
			if err := tx.AddActivity(&store.Activity{ContactID: "1", At: at, Kind: "note"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	add(now, now.Add(-48*time.Hour))                    // the newest first: kept
	add(now.Add(-48*time.Hour), now.Add(-47*time.Hour)) // both past: pruned
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Prune(store.Prune{Activity: now.Add(-time.Hour), Limit: 100}); err != nil {
		t.Fatal(err)
	}
	left, err := tx.Activity("1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || !left[0].At.Equal(now) || !left[1].At.Equal(now.Add(-48*time.Hour)) {
		t.Errorf("after pruning before %v: %d entries left %v; want the first commit's two", now.Add(-time.Hour), len(left), left)
	}
}
