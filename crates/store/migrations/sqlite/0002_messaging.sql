-- Channels, raw webhook events, threads and tickets, messages and their
-- events, WhatsApp templates, counted conversations, usage settings,
-- notifications and idempotency keys.

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    secrets TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX channels_workspace ON channels(workspace_id, kind);

CREATE TABLE channel_numbers (
    channel_id TEXT NOT NULL REFERENCES channels(id),
    phone_number_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    display_phone_number TEXT,
    PRIMARY KEY (channel_id, phone_number_id)
);
CREATE INDEX channel_numbers_lookup ON channel_numbers(phone_number_id);

CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    processed_at INTEGER,
    UNIQUE (channel_id, dedupe_key)
);

CREATE TABLE threads (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    channel TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    account TEXT NOT NULL,
    last_message_at INTEGER NOT NULL,
    last_inbound_at INTEGER,
    session_started_at INTEGER,
    unread INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, contact_id, channel_id, account)
);
CREATE INDEX threads_recent ON threads(workspace_id, last_message_at);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    thread_id TEXT NOT NULL REFERENCES threads(id),
    status TEXT NOT NULL,
    owner_id TEXT,
    priority TEXT NOT NULL DEFAULT 'normal',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER
);
CREATE INDEX tickets_thread ON tickets(thread_id, status);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    thread_id TEXT,
    contact_id TEXT,
    direction TEXT NOT NULL,
    status TEXT NOT NULL,
    type TEXT NOT NULL,
    text TEXT,
    content TEXT NOT NULL,
    template TEXT,
    campaign TEXT,
    sender TEXT,
    recipient TEXT,
    provider_message_id TEXT,
    segments INTEGER,
    encoding TEXT,
    error_code TEXT,
    error_message TEXT,
    quarantined INTEGER NOT NULL DEFAULT 0,
    counted INTEGER NOT NULL DEFAULT 0,
    send_attempted_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_provider_id ON messages(channel_id, provider_message_id);
CREATE INDEX messages_thread ON messages(thread_id, id);
CREATE INDEX messages_contact ON messages(contact_id, id);

CREATE TABLE message_events (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX message_events_message ON message_events(message_id, id);

CREATE TABLE wa_templates (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    provider_template_id TEXT,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    components TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (channel_id, name, language)
);

CREATE TABLE wa_conversations (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    message_id TEXT NOT NULL,
    business_initiated INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX wa_conversations_workspace ON wa_conversations(workspace_id, at);
CREATE INDEX wa_conversations_channel ON wa_conversations(channel_id, at);

ALTER TABLE workspaces ADD COLUMN wa_monthly_limit INTEGER NOT NULL DEFAULT 1000;
ALTER TABLE workspaces ADD COLUMN wa_billing_anchor_day INTEGER NOT NULL DEFAULT 1;
ALTER TABLE workspaces ADD COLUMN wa_count_user_initiated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN wa_packs INTEGER NOT NULL DEFAULT 0;

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    percent INTEGER NOT NULL,
    details TEXT NOT NULL,
    at INTEGER NOT NULL,
    UNIQUE (workspace_id, kind, period_start, percent)
);

CREATE TABLE idempotency_keys (
    workspace_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

ALTER TABLE workspaces ADD COLUMN opt_in_reply TEXT;
ALTER TABLE workspaces ADD COLUMN opt_out_reply TEXT;
