-- Segments: saved conditions over contacts, counted and listed in SQL.
--
-- contact_property_values holds each known (non-empty) property of a contact
-- in the forms conditions compare, computed in Rust by the functions the
-- condition evaluator uses (recado_flow::condition::property_text, _number,
-- _date, _flag): SQL cannot reproduce Rust's Unicode lowercase, number or date
-- parsing, and a segment must count exactly the contacts the evaluator
-- matches. The store writes these rows in the transaction of every contact
-- write. Conditions probe them per contact by the primary key.
CREATE TABLE contact_property_values (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    property TEXT NOT NULL,
    -- Unicode lowercase of the value (eq, neq, contains).
    text_lower TEXT NOT NULL,
    -- The value as a finite number, when it reads as one (eq, gt, lt).
    num REAL,
    -- The value as an instant in ms, when it is an RFC 3339 time or a day.
    at_ms INTEGER,
    -- 1 for `true`, 0 for `false` (trimmed, any ASCII case), else NULL.
    flag INTEGER,
    PRIMARY KEY (contact_id, property)
);

-- Event conditions look for one type of event of one contact.
CREATE INDEX timeline_contact_type ON timeline_events(contact_id, type, at);

CREATE TABLE segments (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    -- The condition as JSON (recado_flow::Condition::to_json).
    filter TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX segments_workspace ON segments(workspace_id, id);

-- Data fills that a migration cannot do in SQL (they need Rust), done once
-- after the migrations by the store and recorded here by name.
CREATE TABLE store_backfills (
    name TEXT PRIMARY KEY,
    done_at INTEGER NOT NULL
);
