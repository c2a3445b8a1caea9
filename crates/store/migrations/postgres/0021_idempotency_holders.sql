-- A key whose request is still being handled names the node handling it
-- (`holder`). When that node is gone (crashed, replaced by its restart),
-- the key is taken over instead of answering "in use" for 24 hours. The
-- send's own transaction finishes the key and names its message, so a
-- crash between the commit and the answer can never lead to a second send.
ALTER TABLE idempotency_keys ADD COLUMN holder TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN message_id TEXT;
