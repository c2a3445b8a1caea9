-- A template's review status is one of Meta's documented values, spelt as
-- Meta spells it (TemplateStatus). Statuses stored before this check in
-- another letter case are normalised; REINSTATED is Meta's webhook word for
-- a template approved again. A template with any other value is only a copy
-- of the provider's list and comes back at the next sync. SQLite adds a
-- CHECK by rebuilding the table.

CREATE TABLE wa_templates_checked (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    provider_template_id TEXT,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('APPROVED', 'PENDING', 'REJECTED', 'IN_APPEAL', 'PAUSED', 'DISABLED', 'FLAGGED', 'LOCKED', 'LIMIT_EXCEEDED', 'PENDING_DELETION', 'DELETED', 'ARCHIVED')),
    components TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (channel_id, name, language)
);
INSERT INTO wa_templates_checked
    SELECT id, workspace_id, channel_id, provider_template_id, name, language, category,
           CASE UPPER(status) WHEN 'REINSTATED' THEN 'APPROVED' ELSE UPPER(status) END,
           components, updated_at
    FROM wa_templates
    WHERE CASE UPPER(status) WHEN 'REINSTATED' THEN 'APPROVED' ELSE UPPER(status) END
          IN ('APPROVED', 'PENDING', 'REJECTED', 'IN_APPEAL', 'PAUSED', 'DISABLED', 'FLAGGED', 'LOCKED', 'LIMIT_EXCEEDED', 'PENDING_DELETION', 'DELETED', 'ARCHIVED');
DROP TABLE wa_templates;
ALTER TABLE wa_templates_checked RENAME TO wa_templates;
