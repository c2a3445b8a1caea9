-- A template's review status is one of Meta's documented values, spelt as
-- Meta spells it (TemplateStatus). Statuses stored before this check in
-- another letter case are normalised; REINSTATED is Meta's webhook word for
-- a template approved again. A template with any other value is only a copy
-- of the provider's list and comes back at the next sync.

UPDATE wa_templates SET status = UPPER(status);
UPDATE wa_templates SET status = 'APPROVED' WHERE status = 'REINSTATED';
DELETE FROM wa_templates WHERE status NOT IN ('APPROVED', 'PENDING', 'REJECTED', 'IN_APPEAL', 'PAUSED', 'DISABLED', 'FLAGGED', 'LOCKED', 'LIMIT_EXCEEDED', 'PENDING_DELETION', 'DELETED', 'ARCHIVED');
ALTER TABLE wa_templates ADD CONSTRAINT wa_templates_status_known CHECK (status IN ('APPROVED', 'PENDING', 'REJECTED', 'IN_APPEAL', 'PAUSED', 'DISABLED', 'FLAGGED', 'LOCKED', 'LIMIT_EXCEEDED', 'PENDING_DELETION', 'DELETED', 'ARCHIVED'));
