-- Help-desk inbox: web sign-in sessions, saved views, the lookup of a
-- thread's current ticket, and full-text search over message text and
-- contact names (FTS5 tables kept in step by triggers, so every write path
-- of the store updates them in its own transaction).

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);

CREATE TABLE saved_views (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    filters TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
);

-- The newest ticket of a thread is its current one.
CREATE INDEX tickets_thread_latest ON tickets(thread_id, id);
CREATE INDEX threads_inbox ON threads(workspace_id, last_message_at, id);

-- Quarantined messages are never indexed: their content must not be found.
CREATE VIRTUAL TABLE message_search USING fts5(
    body,
    message_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO message_search (body, message_id)
    SELECT text, id FROM messages WHERE quarantined = 0 AND text IS NOT NULL;

CREATE TRIGGER message_search_insert AFTER INSERT ON messages
WHEN NEW.quarantined = 0 AND NEW.text IS NOT NULL
BEGIN
    INSERT INTO message_search (body, message_id) VALUES (NEW.text, NEW.id);
END;

CREATE TRIGGER message_search_update AFTER UPDATE OF text, quarantined ON messages
BEGIN
    DELETE FROM message_search WHERE message_id = OLD.id;
    INSERT INTO message_search (body, message_id)
        SELECT NEW.text, NEW.id WHERE NEW.quarantined = 0 AND NEW.text IS NOT NULL;
END;

CREATE TRIGGER message_search_delete AFTER DELETE ON messages
BEGIN
    DELETE FROM message_search WHERE message_id = OLD.id;
END;

CREATE VIRTUAL TABLE contact_search USING fts5(
    name,
    contact_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO contact_search (name, contact_id)
    SELECT trim(coalesce(json_extract(properties, '$.firstname'), '') || ' ' || coalesce(json_extract(properties, '$.lastname'), '')), id
    FROM contacts WHERE erased_at IS NULL;

CREATE TRIGGER contact_search_insert AFTER INSERT ON contacts
BEGIN
    INSERT INTO contact_search (name, contact_id) VALUES (
        trim(coalesce(json_extract(NEW.properties, '$.firstname'), '') || ' ' || coalesce(json_extract(NEW.properties, '$.lastname'), '')),
        NEW.id);
END;

CREATE TRIGGER contact_search_update AFTER UPDATE OF properties ON contacts
BEGIN
    DELETE FROM contact_search WHERE contact_id = OLD.id;
    INSERT INTO contact_search (name, contact_id) VALUES (
        trim(coalesce(json_extract(NEW.properties, '$.firstname'), '') || ' ' || coalesce(json_extract(NEW.properties, '$.lastname'), '')),
        NEW.id);
END;

CREATE TRIGGER contact_search_delete AFTER DELETE ON contacts
BEGIN
    DELETE FROM contact_search WHERE contact_id = OLD.id;
END;
