-- The closed sets of values (job kinds and states, message channels,
-- directions and statuses, SMS part states, keyword kinds) are checked by the
-- database: a value the code does not know is refused when written, so a
-- row read back always names one of the hub's enums (JobKind, OutboundStatus,
-- PartState, KeywordKind, ...), never a silent default.
--
-- SQLite adds a CHECK constraint only with the table: each table is rebuilt
-- (nothing references these tables by foreign key) with its indexes and the
-- search triggers of `messages`.

CREATE TABLE jobs_checked (
    id TEXT PRIMARY KEY,
    workspace_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('whatsapp.webhook', 'whatsapp.send', 'whatsapp.template_sync', 'sms.send', 'sms.sandbox_receipt', 'sms.webhook', 'sms.smpp_receipt', 'sms.smpp_inbound', 'webhook.deliver')),
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

CREATE TABLE messages_checked (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'voice')),
    channel_id TEXT NOT NULL,
    thread_id TEXT,
    contact_id TEXT,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    status TEXT NOT NULL CHECK (status IN ('queued', 'uncertain', 'sent', 'delivered', 'read', 'failed', 'not_sent', 'not_delivered', 'received')),
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
INSERT INTO messages_checked SELECT id, workspace_id, channel, channel_id, thread_id, contact_id, direction, status,
    type, text, content, template, campaign, sender, recipient, provider_message_id, segments, encoding,
    error_code, error_message, quarantined, counted, send_attempted_at, created_at, updated_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_checked RENAME TO messages;
CREATE UNIQUE INDEX messages_provider_id ON messages(channel_id, provider_message_id);
CREATE INDEX messages_thread ON messages(thread_id, id);
CREATE INDEX messages_contact ON messages(contact_id, id);

CREATE TRIGGER message_search_insert AFTER INSERT ON messages
WHEN NEW.quarantined = 0 AND NEW.text IS NOT NULL
BEGIN
    INSERT INTO message_search (body, message_id) VALUES (NEW.text, NEW.id);
END;

CREATE TRIGGER message_search_update AFTER UPDATE OF text, quarantined ON messages
BEGIN
    DELETE FROM message_search WHERE message_id = OLD.id;
    INSERT INTO message_search (body, message_id)
        SELECT NEW.text, NEW.id WHERE NEW.quarantined = 0 AND NEW.text IS NOT NULL;
END;

CREATE TRIGGER message_search_delete AFTER DELETE ON messages
BEGIN
    DELETE FROM message_search WHERE message_id = OLD.id;
END;

CREATE TABLE message_parts_checked (
    channel_id TEXT NOT NULL,
    provider_part_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    part_index INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('accepted', 'not_delivered', 'delivered')),
    PRIMARY KEY (channel_id, provider_part_id)
);
INSERT INTO message_parts_checked SELECT channel_id, provider_part_id, message_id, part_index, state FROM message_parts;
DROP TABLE message_parts;
ALTER TABLE message_parts_checked RENAME TO message_parts;
CREATE INDEX message_parts_message ON message_parts(message_id);

CREATE TABLE custom_keywords_checked (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    word TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('opt_in', 'opt_out')),
    language TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, word)
);
INSERT INTO custom_keywords_checked SELECT workspace_id, word, kind, language, created_at FROM custom_keywords;
DROP TABLE custom_keywords;
ALTER TABLE custom_keywords_checked RENAME TO custom_keywords;
