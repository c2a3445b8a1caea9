-- A campaign's counters are spread over a few rows per key (shards): every
-- event of a campaign adds to the same counters, and on PostgreSQL
-- concurrent transactions adding to one row wait for each other's commit —
-- the calls of an IVR campaign queued behind one another there. Statistics
-- sum the shards.
ALTER TABLE campaign_counts ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE campaign_counts DROP CONSTRAINT campaign_counts_pkey;
ALTER TABLE campaign_counts ADD PRIMARY KEY (workspace_id, campaign_id, hour, channel, sender, counter, shard);
