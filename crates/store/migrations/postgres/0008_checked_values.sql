-- The closed sets of values (job kinds and states, message channels,
-- directions and statuses, SMS part states, keyword kinds) are checked by the
-- database: a value the code does not know is refused when written, so a
-- row read back always names one of the hub's enums (JobKind, OutboundStatus,
-- PartState, KeywordKind, ...), never a silent default.

ALTER TABLE jobs ADD CONSTRAINT jobs_kind_known CHECK (kind IN ('whatsapp.webhook', 'whatsapp.send', 'whatsapp.template_sync', 'sms.send', 'sms.sandbox_receipt', 'sms.webhook', 'sms.smpp_receipt', 'sms.smpp_inbound', 'webhook.deliver'));
ALTER TABLE jobs ADD CONSTRAINT jobs_status_known CHECK (status IN ('queued', 'running', 'done', 'dead'));
ALTER TABLE messages ADD CONSTRAINT messages_channel_known CHECK (channel IN ('whatsapp', 'sms', 'voice'));
ALTER TABLE messages ADD CONSTRAINT messages_direction_known CHECK (direction IN ('in', 'out'));
ALTER TABLE messages ADD CONSTRAINT messages_status_known CHECK (status IN ('queued', 'uncertain', 'sent', 'delivered', 'read', 'failed', 'not_sent', 'not_delivered', 'received'));
ALTER TABLE message_parts ADD CONSTRAINT message_parts_state_known CHECK (state IN ('accepted', 'not_delivered', 'delivered'));
ALTER TABLE custom_keywords ADD CONSTRAINT custom_keywords_kind_known CHECK (kind IN ('opt_in', 'opt_out'));
