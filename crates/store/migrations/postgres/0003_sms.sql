-- Short links of SMS texts (each click is recorded on the contact's timeline).

CREATE TABLE short_links (
    code TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    contact_id TEXT,
    target_url TEXT NOT NULL,
    clicks BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX short_links_message ON short_links(message_id);

-- The provider ids of each part of a multi-part SMS (SMPP gives one per
-- part) and the delivery state each part reached.
CREATE TABLE message_parts (
    channel_id TEXT NOT NULL,
    provider_part_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    part_index BIGINT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (channel_id, provider_part_id)
);
CREATE INDEX message_parts_message ON message_parts(message_id);
