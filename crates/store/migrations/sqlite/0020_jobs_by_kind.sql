-- Workers claim jobs of the kinds they run (dial loops only dials, the
-- other workers every kind but dials and sends): an index that leads with
-- the kind lets each claim seek its own kinds' due jobs instead of walking
-- past every due job of the others. A migration that rebuilds the jobs
-- table must create it again.
CREATE INDEX jobs_kind_ready ON jobs(status, kind, run_at);
