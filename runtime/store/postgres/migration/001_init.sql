-- The PostgreSQL store's schema: the embedded store's tables, as one
-- database shared by any number of flowd processes. Times are Unix
-- nanoseconds, UTC (0 is no time), as in the embedded store, so that the two
-- read and write records alike; JSON columns hold what the engine reads
-- whole. Claims of timers and outbox work are leases in the rows
-- (claimed_until), which another process takes over once they end.

CREATE TABLE contacts (
	id       text PRIMARY KEY,
	fields   jsonb NOT NULL,
	tags     jsonb NOT NULL,
	channel  text NOT NULL,
	channels jsonb NOT NULL,
	created  bigint NOT NULL
);
CREATE INDEX contacts_phone ON contacts ((fields ->> 'phone'));
CREATE INDEX contacts_email ON contacts ((fields ->> 'email'));

CREATE TABLE conversations (
	id                   bigserial PRIMARY KEY,
	contact_id           text NOT NULL,
	number               integer NOT NULL,
	open                 smallint NOT NULL,
	opened_by            text NOT NULL,
	opened_at            bigint NOT NULL,
	closed_by            text NOT NULL,
	closed_at            bigint NOT NULL,
	category             text NOT NULL,
	summary              text NOT NULL,
	assignee             text NOT NULL,
	team                 text NOT NULL,
	last_incoming        text NOT NULL,
	last_incoming_at     bigint NOT NULL,
	last_outgoing        text NOT NULL,
	last_outgoing_at     bigint NOT NULL,
	last_outgoing_source text NOT NULL,
	held                 text NOT NULL
);
CREATE UNIQUE INDEX conversations_number ON conversations (contact_id, number);
CREATE UNIQUE INDEX conversations_one_open ON conversations (contact_id) WHERE open = 1;
CREATE INDEX conversations_assignee ON conversations (assignee) WHERE open = 1;

CREATE TABLE users (
	id            text PRIMARY KEY,
	name          text NOT NULL,
	email         text NOT NULL,
	teams         text NOT NULL,
	status        text NOT NULL,
	last_assigned bigint NOT NULL
);

CREATE TABLE runs (
	id         bigserial PRIMARY KEY,
	contact_id text NOT NULL,
	flow       text NOT NULL,
	program    text NOT NULL,
	status     text NOT NULL,
	cont       bytea,
	vars       bytea,
	wait       text NOT NULL,
	wait_seq   bigint NOT NULL,
	deadline   bigint NOT NULL,
	trigger    bytea,
	parent     bigint NOT NULL,
	err        text NOT NULL,
	started    bigint NOT NULL,
	updated    bigint NOT NULL,
	seq        bigint NOT NULL
);
CREATE INDEX runs_contact ON runs (contact_id, id);
CREATE INDEX runs_active ON runs (contact_id, id) WHERE status = 'waiting';

CREATE TABLE programs (
	hash   text PRIMARY KEY,
	flow   text NOT NULL,
	file   text NOT NULL,
	source bytea NOT NULL,
	added  bigint NOT NULL
);

CREATE TABLE enrolments (
	id         bigserial PRIMARY KEY,
	contact_id text NOT NULL,
	flow       text NOT NULL,
	at         bigint NOT NULL
);
CREATE INDEX enrolments_contact_flow ON enrolments (contact_id, flow);
CREATE INDEX enrolments_contact_at ON enrolments (contact_id, at);

CREATE TABLE activity (
	id         bigserial PRIMARY KEY,
	contact_id text NOT NULL,
	at         bigint NOT NULL,
	kind       text NOT NULL,
	flow       text NOT NULL,
	run_id     bigint NOT NULL,
	text       text NOT NULL,
	data       bytea
);
CREATE INDEX activity_contact ON activity (contact_id, id);
CREATE INDEX activity_at ON activity (at);

CREATE TABLE timers (
	id            bigserial PRIMARY KEY,
	contact_id    text NOT NULL,
	kind          text NOT NULL,
	run_id        bigint NOT NULL,
	seq           bigint NOT NULL,
	at            bigint NOT NULL,
	claimed_until bigint NOT NULL DEFAULT 0
);
CREATE INDEX timers_at ON timers (at, id);
CREATE INDEX timers_run ON timers (run_id);
CREATE INDEX timers_contact ON timers (contact_id, kind) WHERE run_id = 0;

CREATE TABLE outbox (
	id            bigserial PRIMARY KEY,
	contact_id    text NOT NULL,
	lane          text NOT NULL,
	kind          text NOT NULL,
	run_id        bigint NOT NULL,
	seq           bigint NOT NULL,
	payload       bytea NOT NULL,
	status        text NOT NULL,
	attempts      integer NOT NULL,
	next_at       bigint NOT NULL,
	err           text NOT NULL,
	created       bigint NOT NULL,
	claimed_until bigint NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (contact_id, lane, id) WHERE status = 'pending';
CREATE INDEX outbox_due ON outbox (next_at) WHERE status = 'pending';
CREATE INDEX outbox_run ON outbox (run_id) WHERE status IN ('pending', 'queued');
CREATE INDEX outbox_queued ON outbox (lane, id) WHERE status = 'queued';
CREATE INDEX outbox_contact ON outbox (contact_id);
CREATE INDEX outbox_done ON outbox (created) WHERE status IN ('delivered', 'failed', 'withdrawn');

-- a key joins its parts with NUL bytes, which text cannot hold
CREATE TABLE dedup (
	key bytea PRIMARY KEY,
	at  bigint NOT NULL
);
CREATE INDEX dedup_at ON dedup (at);

-- A contact's number is handed out once, whatever rolls back.
CREATE SEQUENCE contact_numbers;

CREATE TABLE identities (
	channel_id  text NOT NULL,
	external_id text NOT NULL,
	channel     text NOT NULL,
	contact_id  text NOT NULL,
	at          bigint NOT NULL,
	PRIMARY KEY (channel_id, external_id)
);
CREATE INDEX identities_contact ON identities (contact_id);

CREATE TABLE receipts (
	channel_id text NOT NULL,
	mid        text NOT NULL,
	contact_id text NOT NULL,
	outbox_id  bigint NOT NULL,
	at         bigint NOT NULL,
	PRIMARY KEY (channel_id, mid)
);
CREATE INDEX receipts_contact ON receipts (contact_id);
CREATE INDEX receipts_outbox ON receipts (outbox_id);

CREATE TABLE erasures (
	contact_id text NOT NULL,
	at         bigint NOT NULL
);
