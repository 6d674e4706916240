-- A flow's paused runs, listed to move them to its new version.
CREATE INDEX runs_waiting ON runs (flow, id) WHERE status = 'waiting';
