-- A workspace's own confirmation reply to a consent keyword in one
-- language; the reply to a keyword of that language, before the
-- workspace's reply for every language and the built-in text.
CREATE TABLE keyword_replies (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL CHECK (kind IN ('opt_in', 'opt_out')),
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (workspace_id, kind, language)
);
