-- The processes that run workers. Each one beats every few seconds; the
-- leases held by a node that stopped beating are released to the others long
-- before they expire, so work resumes within seconds of a crash.
CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);
