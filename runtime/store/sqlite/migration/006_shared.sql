-- A conversation's number is the contact's latest plus one, once each: two
-- writers numbering the same one conflict instead of both taking it.
CREATE UNIQUE INDEX conversations_number ON conversations (contact_id, number);
