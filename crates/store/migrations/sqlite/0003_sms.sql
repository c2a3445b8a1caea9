-- Short links of SMS texts (each click is recorded on the contact's timeline).

CREATE TABLE short_links (
    code TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    contact_id TEXT,
    target_url TEXT NOT NULL,
    clicks INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX short_links_message ON short_links(message_id);
