-- The engine reads the sends of a claimed batch of runs in one statement.
CREATE INDEX workflow_sends_run ON workflow_sends(run_id);

-- Contacts known to match the segment of a workflow's segment trigger: a
-- contact enrols when it comes to match (absent here, matching now), and is
-- forgotten when it stops matching, so matching again enrols it again
-- (subject to the workflow's re-enrolment policy).
CREATE TABLE workflow_segment_members (
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, contact_id)
);
