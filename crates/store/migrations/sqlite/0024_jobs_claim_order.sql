-- Claims take the due jobs in (run_at, id) order. With the id in the index
-- a claim reads the jobs in that order and stops at the first one free;
-- without it every claim sorted all the jobs due at the same instant (a
-- workflow enrols hundreds at once), and concurrent claims sorted them
-- again around each other's locks.
DROP INDEX jobs_kind_ready;
CREATE INDEX jobs_kind_ready ON jobs(status, kind, run_at, id);
DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs(status, run_at, id);
