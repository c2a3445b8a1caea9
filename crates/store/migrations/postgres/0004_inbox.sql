-- Help-desk inbox: web sign-in sessions, saved views, the lookup of a
-- thread's current ticket, and full-text search over message text and
-- contact names (GIN indexes over tsvector expressions, so every write path
-- of the store keeps them in step).

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);

CREATE TABLE saved_views (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    filters TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, name)
);

-- The newest ticket of a thread is its current one.
CREATE INDEX tickets_thread_latest ON tickets(thread_id, id);
CREATE INDEX threads_inbox ON threads(workspace_id, last_message_at, id);

-- The expressions must match the store's queries (crates/store/src/inbox/search.rs)
-- exactly for the planner to use these indexes (a store test checks). Text is
-- lower-cased and common Latin accents are folded, as SQLite's unicode61
-- tokenizer does, so "ola" finds "Olá" on both backends. Quarantined messages
-- are left out of the index and out of every search: their content must not
-- be found.
CREATE INDEX messages_search ON messages
    USING GIN (to_tsvector('simple'::regconfig, translate(lower(coalesce(text, '')), 'áàâãäåāăąéèêëēėęěíìîïīįóòôõöøōőúùûüūůűųýÿçćčñńňłśšşźżžďťřğ', 'aaaaaaaaaeeeeeeeeiiiiiioooooooouuuuuuuuyycccnnnlssszzzdtrg')))
    WHERE NOT quarantined;

CREATE INDEX contacts_name_search ON contacts
    USING GIN (to_tsvector('simple'::regconfig, translate(lower(coalesce(properties::jsonb ->> 'firstname', '') || ' ' || coalesce(properties::jsonb ->> 'lastname', '')), 'áàâãäåāăąéèêëēėęěíìîïīįóòôõöøōőúùûüūůűųýÿçćčñńňłśšşźżžďťřğ', 'aaaaaaaaaeeeeeeeeiiiiiioooooooouuuuuuuuyycccnnnlssszzzdtrg')));
