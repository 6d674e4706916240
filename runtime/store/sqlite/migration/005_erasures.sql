-- A contact erased on request leaves only this: its id and when.
CREATE TABLE erasures (
	contact_id TEXT NOT NULL,
	at         INTEGER NOT NULL
);
CREATE INDEX enrolments_contact ON enrolments (contact_id);
CREATE INDEX outbox_contact ON outbox (contact_id);
CREATE INDEX receipts_contact ON receipts (contact_id);
