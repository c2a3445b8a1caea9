-- The next free send slot of a paced account (a voice_http channel's
-- calls per second), shared by every node: each dial reserves the slot
-- after the last one reserved, so nodes together keep the account's rate.
CREATE TABLE pacing_slots (
    key TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);
