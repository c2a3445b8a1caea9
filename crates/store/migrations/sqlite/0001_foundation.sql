-- Workspaces, users, tokens, contacts, consent ledger, timeline, jobs.
-- Times are milliseconds since the Unix epoch (INTEGER) so both backends
-- compare and order them the same way.

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    default_country TEXT,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX users_workspace ON users(workspace_id, id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    properties TEXT NOT NULL,
    search_text TEXT NOT NULL,
    email TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    erased_at INTEGER
);
CREATE INDEX contacts_workspace ON contacts(workspace_id, id);
CREATE INDEX contacts_email ON contacts(workspace_id, email);

CREATE TABLE contact_phones (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    property TEXT NOT NULL,
    e164 TEXT NOT NULL,
    PRIMARY KEY (contact_id, property)
);
CREATE INDEX contact_phones_lookup ON contact_phones(workspace_id, e164);

CREATE TABLE subscriptions (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    legal_basis TEXT,
    explanation TEXT,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (contact_id, channel)
);
CREATE INDEX subscriptions_status ON subscriptions(workspace_id, channel, status);

CREATE TABLE subscription_history (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    legal_basis TEXT,
    explanation TEXT,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX subscription_history_contact ON subscription_history(contact_id, channel, id);

CREATE TABLE custom_keywords (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    word TEXT NOT NULL,
    kind TEXT NOT NULL,
    language TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, word)
);

CREATE TABLE timeline_events (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    message_id TEXT,
    campaign TEXT,
    sender TEXT,
    details TEXT NOT NULL
);
CREATE INDEX timeline_contact ON timeline_events(contact_id, at, id);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs(status, run_at);
CREATE INDEX jobs_lease ON jobs(status, lease_expires_at);
