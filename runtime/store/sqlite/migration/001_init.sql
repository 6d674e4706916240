-- The embedded store's first schema. Times are Unix nanoseconds, UTC; 0 is
-- no time. JSON columns hold what the engine reads whole.

CREATE TABLE contacts (
	id       TEXT PRIMARY KEY,
	fields   TEXT NOT NULL,
	tags     TEXT NOT NULL,
	channel  TEXT NOT NULL,
	channels TEXT NOT NULL,
	created  INTEGER NOT NULL
);

CREATE TABLE conversations (
	id                   INTEGER PRIMARY KEY,
	contact_id           TEXT NOT NULL,
	number               INTEGER NOT NULL,
	open                 INTEGER NOT NULL,
	opened_by            TEXT NOT NULL,
	opened_at            INTEGER NOT NULL,
	closed_by            TEXT NOT NULL,
	closed_at            INTEGER NOT NULL,
	category             TEXT NOT NULL,
	summary              TEXT NOT NULL,
	assignee             TEXT NOT NULL,
	team                 TEXT NOT NULL,
	last_incoming        TEXT NOT NULL,
	last_incoming_at     INTEGER NOT NULL,
	last_outgoing        TEXT NOT NULL,
	last_outgoing_at     INTEGER NOT NULL,
	last_outgoing_source TEXT NOT NULL,
	held                 TEXT NOT NULL
);
CREATE INDEX conversations_contact ON conversations (contact_id);
CREATE UNIQUE INDEX conversations_one_open ON conversations (contact_id) WHERE open = 1;
CREATE INDEX conversations_assignee ON conversations (assignee) WHERE open = 1;

CREATE TABLE users (
	id     TEXT PRIMARY KEY,
	name   TEXT NOT NULL,
	email  TEXT NOT NULL,
	teams  TEXT NOT NULL,
	status TEXT NOT NULL,
	last_assigned INTEGER NOT NULL
);

CREATE TABLE runs (
	id         INTEGER PRIMARY KEY,
	contact_id TEXT NOT NULL,
	flow       TEXT NOT NULL,
	program    TEXT NOT NULL,
	status     TEXT NOT NULL,
	cont       BLOB,
	wait       TEXT NOT NULL,
	wait_seq   INTEGER NOT NULL,
	deadline   INTEGER NOT NULL,
	trigger    BLOB,
	parent     INTEGER NOT NULL,
	err        TEXT NOT NULL,
	started    INTEGER NOT NULL,
	updated    INTEGER NOT NULL,
	seq        INTEGER NOT NULL
);
CREATE INDEX runs_active ON runs (contact_id, id) WHERE status = 'waiting';

CREATE TABLE programs (
	hash   TEXT PRIMARY KEY,
	flow   TEXT NOT NULL,
	file   TEXT NOT NULL,
	source BLOB NOT NULL,
	added  INTEGER NOT NULL
);

CREATE TABLE enrolments (
	id         INTEGER PRIMARY KEY,
	contact_id TEXT NOT NULL,
	flow       TEXT NOT NULL,
	at         INTEGER NOT NULL
);
CREATE INDEX enrolments_contact_flow ON enrolments (contact_id, flow);
CREATE INDEX enrolments_contact_at ON enrolments (contact_id, at);

CREATE TABLE activity (
	id         INTEGER PRIMARY KEY,
	contact_id TEXT NOT NULL,
	at         INTEGER NOT NULL,
	kind       TEXT NOT NULL,
	flow       TEXT NOT NULL,
	run_id     INTEGER NOT NULL,
	text       TEXT NOT NULL,
	data       BLOB
);
CREATE INDEX activity_contact ON activity (contact_id, id);

CREATE TABLE timers (
	id         INTEGER PRIMARY KEY,
	contact_id TEXT NOT NULL,
	kind       TEXT NOT NULL,
	run_id     INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	at         INTEGER NOT NULL
);
CREATE INDEX timers_at ON timers (at, id);
CREATE INDEX timers_run ON timers (run_id);
CREATE INDEX timers_contact ON timers (contact_id, kind) WHERE run_id = 0;

CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY,
	contact_id TEXT NOT NULL,
	lane       TEXT NOT NULL,
	kind       TEXT NOT NULL,
	run_id     INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	payload    BLOB NOT NULL,
	status     TEXT NOT NULL,
	attempts   INTEGER NOT NULL,
	next_at    INTEGER NOT NULL,
	err        TEXT NOT NULL,
	created    INTEGER NOT NULL
);
CREATE INDEX outbox_pending ON outbox (contact_id, lane, id) WHERE status = 'pending';
CREATE INDEX outbox_due ON outbox (next_at) WHERE status = 'pending';
CREATE INDEX outbox_run ON outbox (run_id) WHERE status IN ('pending', 'queued');
CREATE INDEX outbox_queued ON outbox (lane, id) WHERE status = 'queued';

CREATE TABLE dedup (
	key TEXT PRIMARY KEY,
	at  INTEGER NOT NULL
) WITHOUT ROWID;
