-- What the channels page shows of each channel's health: the last webhook
-- received, the last submission a provider accepted and the last error it
-- answered. Nodes note these in memory and write them every few seconds,
-- keeping the latest of each, so the send and intake paths pay nothing.
CREATE TABLE channel_health (
    channel_id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    last_webhook_at INTEGER,
    last_send_at INTEGER,
    last_error_at INTEGER,
    last_error_code TEXT,
    last_error_message TEXT
);
CREATE INDEX channel_health_workspace ON channel_health(workspace_id);

-- Each delivery attempt of an outbound webhook, as the webhooks page shows
-- it: when, which event, the endpoint's status code (none when it could not
-- be reached) and the start of its answer. The last 50 per endpoint are kept.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    at INTEGER NOT NULL,
    status_code INTEGER,
    ok BOOLEAN NOT NULL,
    response TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, at);
