-- Campaigns (SPEC §7): every send belongs to one. A campaign is found by its
-- name when a send names it (or gets its default name) and created on first
-- use; renaming it keeps its id, so its statistics stay.
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'whatsapp', 'voice')),
    source TEXT NOT NULL CHECK (source IN ('api', 'workflow', 'broadcast', 'crm', 'ivr', 'inbox', 'system')),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX campaigns_name ON campaigns(workspace_id, name);
CREATE INDEX campaigns_created ON campaigns(workspace_id, created_at);

-- Counters per campaign, hour, channel and sender ("sent", "not_sent:<reason>",
-- "key:1", …), added in the transaction that records each event: statistics
-- are read from here, never computed by scanning messages.
CREATE TABLE campaign_counts (
    workspace_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    channel TEXT NOT NULL,
    sender TEXT NOT NULL,
    counter TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, campaign_id, hour, channel, sender, counter)
);

-- A message's campaign and the moments of its recipient's life in it, each
-- stamped once: the recipients list and the unique counters read them.
ALTER TABLE messages ADD COLUMN campaign_id TEXT;
ALTER TABLE messages ADD COLUMN sent_at BIGINT;
ALTER TABLE messages ADD COLUMN delivered_at BIGINT;
ALTER TABLE messages ADD COLUMN clicked_at BIGINT;
ALTER TABLE messages ADD COLUMN replied_at BIGINT;
ALTER TABLE messages ADD COLUMN unsubscribed_at BIGINT;
CREATE INDEX messages_campaign ON messages(campaign_id, id) WHERE campaign_id IS NOT NULL;

-- Messages sent before campaigns had records: one campaign per name, with
-- the counters their statuses imply.
INSERT INTO campaigns (id, workspace_id, name, channel, source, created_at)
SELECT 'cmp_' || substr(md5(random()::text || workspace_id || campaign), 1, 26), workspace_id, campaign, MIN(channel),
       CASE lower(split_part(campaign, '_', 1))
           WHEN 'api' THEN 'api' WHEN 'workflow' THEN 'workflow' WHEN 'broadcast' THEN 'broadcast'
           WHEN 'crm' THEN 'crm' WHEN 'ivr' THEN 'ivr' WHEN 'inbox' THEN 'inbox' WHEN 'system' THEN 'system'
           ELSE 'api' END,
       MIN(created_at)
FROM messages WHERE campaign IS NOT NULL AND direction = 'out'
GROUP BY workspace_id, campaign;

UPDATE messages SET campaign_id = (
    SELECT c.id FROM campaigns c WHERE c.workspace_id = messages.workspace_id AND c.name = messages.campaign
) WHERE campaign IS NOT NULL AND direction = 'out';

INSERT INTO campaign_counts (workspace_id, campaign_id, hour, channel, sender, counter, n)
SELECT workspace_id, campaign_id, created_at - (created_at % 3600000), channel, COALESCE(sender, ''), counter, COUNT(*)
FROM (
    SELECT workspace_id, campaign_id, created_at, channel, sender, 'recipients' AS counter FROM messages WHERE campaign_id IS NOT NULL
    UNION ALL
    SELECT workspace_id, campaign_id, created_at, channel, sender, 'sent' FROM messages
        WHERE campaign_id IS NOT NULL AND status IN ('sent', 'delivered', 'read', 'not_delivered')
    UNION ALL
    SELECT workspace_id, campaign_id, created_at, channel, sender, 'delivered' FROM messages
        WHERE campaign_id IS NOT NULL AND status IN ('delivered', 'read')
    UNION ALL
    SELECT workspace_id, campaign_id, created_at, channel, sender, 'not_delivered:' || COALESCE(error_code, 'unknown') FROM messages
        WHERE campaign_id IS NOT NULL AND status IN ('not_delivered', 'failed')
    UNION ALL
    SELECT workspace_id, campaign_id, created_at, channel, sender, 'not_sent:' || COALESCE(error_code, 'unknown') FROM messages
        WHERE campaign_id IS NOT NULL AND status = 'not_sent'
) AS t GROUP BY workspace_id, campaign_id, created_at - (created_at % 3600000), channel, COALESCE(sender, ''), counter;
