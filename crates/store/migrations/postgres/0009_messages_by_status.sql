-- Messages listed by status (`GET /api/v1/messages?status=uncertain`), newest
-- first, without reading the workspace's whole history.
CREATE INDEX messages_status ON messages(workspace_id, status, id);
