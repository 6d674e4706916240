-- runs_waiting lists a flow's paused runs for `flowd runs migrate`. With the
-- same predicate as runs_active, the planner could scan it whole to find a
-- contact's waiting runs whenever its statistics said none were waiting
-- (they come and go between ANALYZEs): every batch would then read every
-- paused run. A predicate only the flow listing states keeps it to that.
DROP INDEX IF EXISTS runs_waiting;
CREATE INDEX runs_waiting ON runs (flow, id) WHERE status = 'waiting' AND flow <> '';
