-- Workflows: a draft definition, immutable published versions, and the runs
-- of contacts through them. The run rows are the queue of the engine: a due
-- run (`wake_at`) is claimed with a lease like a job, so enrolling 100,000
-- contacts writes 100,000 rows, not 100,000 jobs.

CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused')),
    draft TEXT NOT NULL,
    version INTEGER,
    webhook_secret TEXT,
    enrolled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX workflows_workspace ON workflows(workspace_id, id);

CREATE TABLE workflow_versions (
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    workspace_id TEXT NOT NULL,
    definition TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, number)
);

-- `state` is the interpreter's run as JSON; NULL for a run enrolled in bulk
-- that has not started yet. `awaits` lists the event types (`,A,B,`) that
-- wake a waiting run before its `wake_at`.
CREATE TABLE workflow_runs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    contact_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ready', 'running', 'waiting', 'completed', 'exited', 'failed')),
    node_id TEXT NOT NULL,
    wake_at INTEGER,
    awaits TEXT,
    state TEXT,
    trigger_data TEXT,
    lease_owner TEXT,
    lease_until INTEGER,
    entered_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ended_at INTEGER,
    end_reason TEXT
);
-- One active run per workflow and contact.
CREATE UNIQUE INDEX workflow_runs_active ON workflow_runs(workflow_id, contact_id)
    WHERE status IN ('ready', 'running', 'waiting');
CREATE INDEX workflow_runs_due ON workflow_runs(wake_at) WHERE status IN ('ready', 'waiting');
CREATE INDEX workflow_runs_leased ON workflow_runs(lease_until) WHERE status = 'running';
CREATE INDEX workflow_runs_waiting_contact ON workflow_runs(contact_id) WHERE status = 'waiting';
CREATE INDEX workflow_runs_by_workflow ON workflow_runs(workflow_id, status, id);
CREATE INDEX workflow_runs_by_contact ON workflow_runs(workspace_id, contact_id, workflow_id);

-- The message each send step made, by its idempotency key `run:step:node`:
-- a step carried out again after a crash finds its message here.
CREATE TABLE workflow_sends (
    idempotency_key TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX workflow_sends_message ON workflow_sends(message_id);

-- The action log (API "Runs and logs"), one line per run step.
CREATE TABLE workflow_log (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    workspace_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    contact_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    action_type TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'skipped', 'waited', 'resumed', 'timed_out', 'exited')),
    reason TEXT,
    message_id TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (run_id, step)
);
CREATE INDEX workflow_log_by_time ON workflow_log(workflow_id, at);

-- Per node counters, kept in the transaction that logs each step.
CREATE TABLE workflow_node_stats (
    workspace_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    n INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, version, node_id, outcome, reason)
);

-- The next time each schedule trigger fires, and the cursor of segment
-- enrolment pages.
CREATE TABLE workflow_triggers (
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    trigger_index INTEGER NOT NULL,
    workspace_id TEXT NOT NULL,
    next_at INTEGER,
    PRIMARY KEY (workflow_id, trigger_index)
);
CREATE INDEX workflow_triggers_due ON workflow_triggers(next_at);

-- Event triggers of active workflows by event type: recording a timeline
-- event queues a `workflow.event` job for each in the same transaction.
CREATE TABLE workflow_event_triggers (
    workspace_id TEXT NOT NULL,
    event TEXT NOT NULL,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    PRIMARY KEY (workspace_id, event, workflow_id)
);

-- The workflow engine's job kinds (rebuilt: SQLite adds a CHECK only with
-- the table).
CREATE TABLE jobs_checked (
    id TEXT PRIMARY KEY,
    workspace_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('whatsapp.webhook', 'whatsapp.send', 'whatsapp.template_sync', 'sms.send', 'sms.sandbox_receipt', 'sms.webhook', 'sms.smpp_receipt', 'sms.smpp_inbound', 'webhook.deliver', 'workflow.contact_change', 'workflow.enrol_segment', 'workflow.event')),
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
