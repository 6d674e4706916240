-- Retention: de-duplication keys are pruned by age. Activity and outbox rows
-- are pruned from their oldest ids, whose times come first.
CREATE INDEX dedup_at ON dedup (at);
