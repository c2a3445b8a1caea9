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
    attempt BIGINT NOT NULL DEFAULT 0,
    dialled_attempt BIGINT NOT NULL DEFAULT 0,
    -- The key actions already carried out (their job ids), so a key's SMS
    -- is written once however often its job runs.
    actions_done TEXT NOT NULL DEFAULT '',
    provider_call_id TEXT,
    answered_at BIGINT,
    ended_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX calls_open ON calls(channel_id, phase);
CREATE INDEX calls_provider ON calls(channel_id, provider_call_id);
-- Calls whose dial outcome a crash may have hidden, looked up by age.
CREATE INDEX calls_by_phase ON calls(phase, updated_at);


-- The voice job kinds.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_known;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_known CHECK (kind IN ('whatsapp.webhook', 'whatsapp.send', 'whatsapp.template_sync', 'sms.send', 'sms.sandbox_receipt', 'sms.webhook', 'sms.smpp_receipt', 'sms.smpp_inbound', 'webhook.deliver', 'workflow.contact_change', 'workflow.enrol_segment', 'workflow.event', 'broadcast.prepare', 'email.notify', 'voice.dial', 'voice.input', 'voice.command', 'voice.key_action'));
