-- What the channels page shows of each channel's health: the last webhook
-- received, the last submission a provider accepted and the last error it
-- answered. Nodes note these in memory and write them every few seconds,
-- keeping the latest of each, so the send and intake paths pay nothing.
CREATE TABLE channel_health (
    channel_id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    last_webhook_at BIGINT,
    last_send_at BIGINT,
    last_error_at BIGINT,
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
    at BIGINT NOT NULL,
    status_code BIGINT,
    ok BOOLEAN NOT NULL,
    response TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, at);

-- The e-mail notification job kind.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_known;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_known CHECK (kind IN ('whatsapp.webhook', 'whatsapp.send', 'whatsapp.template_sync', 'sms.send', 'sms.sandbox_receipt', 'sms.webhook', 'sms.smpp_receipt', 'sms.smpp_inbound', 'webhook.deliver', 'workflow.contact_change', 'workflow.enrol_segment', 'workflow.event', 'broadcast.prepare', 'email.notify'));
