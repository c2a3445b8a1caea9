-- One row per call (a voice message or an IVR call), beside its message
-- (type `voice`, channel `voice`). It is written with the message, before
-- anything is dialled: `state` is recado_core::voice::call::Call as JSON
-- (phase, attempt, timers, menu), `definition` what the call plays with the
-- contact's tokens filled. `dialled_attempt` is moved forward by
-- compare-and-set just before a provider is asked to dial, so an attempt
-- whose job runs again after a crash is never dialled twice.
CREATE TABLE calls (
    message_id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    contact_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('message', 'ivr')),
    definition TEXT NOT NULL,
    state TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('queued', 'dialing', 'placed', 'answered', 'retry_waiting', 'ended')),
    attempt INTEGER NOT NULL DEFAULT 0,
    dialled_attempt INTEGER NOT NULL DEFAULT 0,
    -- The key actions already carried out (their job ids), so a key's SMS
    -- is written once however often its job runs.
    actions_done TEXT NOT NULL DEFAULT '',
    provider_call_id TEXT,
    answered_at INTEGER,
    ended_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX calls_open ON calls(channel_id, phase);
CREATE INDEX calls_provider ON calls(channel_id, provider_call_id);
-- Calls whose dial outcome a crash may have hidden, looked up by age.
CREATE INDEX calls_by_phase ON calls(phase, updated_at);


-- The voice job kinds (rebuilt: SQLite adds a CHECK only with the table).
CREATE TABLE jobs_checked (
    id TEXT PRIMARY KEY,
    workspace_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('whatsapp.webhook', 'whatsapp.send', 'whatsapp.template_sync', 'sms.send', 'sms.sandbox_receipt', 'sms.webhook', 'sms.smpp_receipt', 'sms.smpp_inbound', 'webhook.deliver', 'workflow.contact_change', 'workflow.enrol_segment', 'workflow.event', 'broadcast.prepare', 'email.notify', 'voice.dial', 'voice.input', 'voice.command', 'voice.key_action')),
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
