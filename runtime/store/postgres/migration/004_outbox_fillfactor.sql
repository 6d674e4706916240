-- A claim sets an outbox item's lease, a column no index holds, so the
-- new version of the row can stay on its page with no new index entries
-- (a HOT update), if the page has room for it. Left full, as a page is
-- when its rows were added together, each claim wrote a new entry in each
-- of the outbox's indexes. Half of each page is left for those updates.
ALTER TABLE outbox SET (fillfactor = 50);
