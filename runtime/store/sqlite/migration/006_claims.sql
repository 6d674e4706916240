-- A claimed outbox item is left to the dispatcher that claimed it until
-- claimed_until: a lease, apart from next_at, its next try. The embedded
-- store's one process releases every claim when it opens the file: a claim
-- left in it is a dead process's.
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
