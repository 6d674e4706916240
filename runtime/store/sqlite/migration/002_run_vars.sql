-- An ended run keeps its variables (what it collected), and a contact's
-- runs, ended ones included, are listed in order.
ALTER TABLE runs ADD COLUMN vars BLOB;
CREATE INDEX runs_contact ON runs (contact_id, id);
