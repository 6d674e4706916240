-- A channel's contacts and messages. An identity is a contact's id on one
-- channel, (channel_id, external_id), and names one flowd contact, whose
-- number comes from contact_numbers and is never handed out again. A
-- receipt is the id a channel gave a message flowd sent, so that its
-- status reports and echoes find it. Contacts are found by phone and email.

CREATE TABLE contact_numbers (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	at INTEGER NOT NULL
);

CREATE TABLE identities (
	channel_id  TEXT NOT NULL,
	external_id TEXT NOT NULL,
	channel     TEXT NOT NULL,
	contact_id  TEXT NOT NULL,
	at          INTEGER NOT NULL,
	PRIMARY KEY (channel_id, external_id)
) WITHOUT ROWID;
CREATE INDEX identities_contact ON identities (contact_id);

CREATE TABLE receipts (
	channel_id TEXT NOT NULL,
	mid        TEXT NOT NULL,
	contact_id TEXT NOT NULL,
	outbox_id  INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	PRIMARY KEY (channel_id, mid)
) WITHOUT ROWID;

CREATE INDEX contacts_phone ON contacts (json_extract(fields, '$.phone'));
CREATE INDEX contacts_email ON contacts (json_extract(fields, '$.email'));
