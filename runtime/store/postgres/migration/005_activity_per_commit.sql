-- A contact's activity entries of one commit share a row: a turn adds about
-- four (the message in, the flow's replies, a tag), and a row each cost four
-- heap tuples and twelve index entries where one row costs one and two. The
-- entries are the row's arrays, in the order of their ids (an entry with no
-- data has an empty one); the row is keyed by its contact and its last
-- entry's id. A contact's entries take their ids under its lock, so its
-- rows' ids never interleave, and the rows in the order of last_id hold the
-- entries in the order of id. at is the newest entry's time: retention keeps
-- a commit's entries together.
ALTER SEQUENCE activity_id_seq OWNED BY NONE;
ALTER TABLE activity RENAME TO activity_entries_v1;
ALTER INDEX activity_pkey RENAME TO activity_entries_v1_pkey;
ALTER INDEX activity_contact RENAME TO activity_entries_v1_contact;
ALTER INDEX activity_at RENAME TO activity_entries_v1_at;
CREATE TABLE activity (
	contact_id text NOT NULL,
	last_id    bigint NOT NULL,
	at         bigint NOT NULL,
	ids        bigint[] NOT NULL,
	ats        bigint[] NOT NULL,
	kinds      text[] NOT NULL,
	flows      text[] NOT NULL,
	run_ids    bigint[] NOT NULL,
	texts      text[] NOT NULL,
	datas      bytea[] NOT NULL,
	PRIMARY KEY (contact_id, last_id)
);
CREATE INDEX activity_at ON activity (at);
INSERT INTO activity (contact_id, last_id, at, ids, ats, kinds, flows, run_ids, texts, datas)
	SELECT contact_id, id, at, ARRAY[id], ARRAY[at], ARRAY[kind], ARRAY[flow], ARRAY[run_id], ARRAY[text], ARRAY[data]
	FROM activity_entries_v1;
DROP TABLE activity_entries_v1;
ALTER SEQUENCE activity_id_seq OWNED BY activity.last_id;

-- The entries one per row, for reading by hand.
CREATE VIEW activity_entries AS
	SELECT e.id, a.contact_id, e.at, e.kind, e.flow, e.run_id, e.text, nullif(e.data, ''::bytea) AS data
	FROM activity a, unnest(a.ids, a.ats, a.kinds, a.flows, a.run_ids, a.texts, a.datas) AS e(id, at, kind, flow, run_id, text, data);
