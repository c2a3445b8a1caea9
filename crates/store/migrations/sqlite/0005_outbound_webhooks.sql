-- Endpoints that receive the hub's events (signed, retried, disabled after
-- persistent failure) and the events themselves.

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints(workspace_id);

CREATE TABLE outbound_events (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX outbound_events_workspace ON outbound_events(workspace_id, id);
