-- Broadcasts (SPEC §7): one SMS or WhatsApp template to a segment, now or at
-- a set time. Recipients are prepared page by page in contact-id order;
-- `cursor` (the last contact prepared) moves in the transaction that writes
-- the page's messages, so a page is prepared exactly once whatever crashes.
CREATE TABLE broadcasts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    segment_id TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    -- The send as asked: channel id, sender, text or template, options.
    spec TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'preparing', 'sending', 'paused', 'done', 'cancelled')),
    -- Whether every recipient has been prepared (the cursor reached the end).
    prepared_all INTEGER NOT NULL DEFAULT 0,
    scheduled_at INTEGER NOT NULL,
    cursor TEXT NOT NULL DEFAULT '',
    prepared INTEGER NOT NULL DEFAULT 0,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX broadcasts_created ON broadcasts(workspace_id, created_at);
CREATE UNIQUE INDEX broadcasts_campaign ON broadcasts(campaign_id);

-- The messages still waiting to be sent, by campaign: a broadcast prepares
-- more only while few of its own are waiting (back-pressure), and counts
-- them in the time it takes to read that few.
CREATE INDEX messages_queued_campaign ON messages(campaign_id) WHERE status = 'queued';

-- The broadcast's job kind (rebuilt: SQLite adds a CHECK only with the table).
CREATE TABLE jobs_checked (
    id TEXT PRIMARY KEY,
    workspace_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('whatsapp.webhook', 'whatsapp.send', 'whatsapp.template_sync', 'sms.send', 'sms.sandbox_receipt', 'sms.webhook', 'sms.smpp_receipt', 'sms.smpp_inbound', 'webhook.deliver', 'workflow.contact_change', 'workflow.enrol_segment', 'workflow.event', 'broadcast.prepare')),
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
