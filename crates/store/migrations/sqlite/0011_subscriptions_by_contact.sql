-- Every business send reads the contact's subscriptions by workspace and
-- contact. Without planner statistics SQLite chose subscriptions_status,
-- whose first column is the workspace, and read every subscription of the
-- workspace on each send. An index on both columns of the lookup is the
-- better match under any statistics.
CREATE INDEX subscriptions_contact ON subscriptions(workspace_id, contact_id, channel);
