-- A campaign's counters are spread over a few rows per key (shards) where
-- concurrent writers would wait on one row (PostgreSQL); SQLite's single
-- writer keeps shard 0. The same shape on both: statistics sum the shards.
CREATE TABLE campaign_counts_sharded (
    workspace_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    channel TEXT NOT NULL,
    sender TEXT NOT NULL,
    counter TEXT NOT NULL,
    shard INTEGER NOT NULL DEFAULT 0,
    n INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, campaign_id, hour, channel, sender, counter, shard)
);
INSERT INTO campaign_counts_sharded (workspace_id, campaign_id, hour, channel, sender, counter, shard, n)
SELECT workspace_id, campaign_id, hour, channel, sender, counter, 0, n FROM campaign_counts;
DROP TABLE campaign_counts;
ALTER TABLE campaign_counts_sharded RENAME TO campaign_counts;
