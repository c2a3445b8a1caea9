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

-- The e-mail notification job kind (rebuilt: SQLite adds a CHECK only with the table).
CREATE TABLE jobs_checked (
    id TEXT PRIMARY KEY,
    workspace_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('whatsapp.webhook', 'whatsapp.send', 'whatsapp.template_sync', 'sms.send', 'sms.sandbox_receipt', 'sms.webhook', 'sms.smpp_receipt', 'sms.smpp_inbound', 'webhook.deliver', 'workflow.contact_change', 'workflow.enrol_segment', 'workflow.event', 'broadcast.prepare', 'email.notify')),
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO jobs_checked SELECT id, workspace_id, kind, payload, status, run_at, attempts, max_attempts,
    lease_owner, lease_expires_at, last_error, created_at, updated_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_checked RENAME TO jobs;
CREATE INDEX jobs_ready ON jobs(status, run_at);
CREATE INDEX jobs_lease ON jobs(status, lease_expires_at);
