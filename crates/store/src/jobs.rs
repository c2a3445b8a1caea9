//! The durable job queue, kept in the database so no broker is needed.
//!
//! Jobs are claimed with a lease rather than held in a long transaction: a
//! worker that dies leaves a lease that expires, and the job is queued again
//! (or buried once it has used all its attempts). PostgreSQL claims with
//! `FOR UPDATE SKIP LOCKED` so many workers on many nodes never take the same
//! job; SQLite's single writer serialises claims by itself.

use crate::{on_reader, on_writer, Result, Store};
use rand::Rng;
use recado_core::jobs::{JobKind, Task, UnreadableTask};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Job {
    pub id: String,
    pub workspace_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub kind: JobKind,
    pub payload: String,
    pub status: String,
    pub run_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Job {
    /// What the job does, read from its kind and payload.
    pub fn task(&self) -> std::result::Result<Task, UnreadableTask> {
        Task::read(self.kind.as_str(), &self.payload)
    }
}

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const DEAD: &str = "dead";

/// What a claim returns: the job to run, if one was due, and the jobs buried
/// on the way because their lease ran out on their last attempt.
#[derive(Debug, Default)]
pub struct Claim {
    pub job: Option<Job>,
    pub buried: Vec<Job>,
}

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob<'a> {
    pub task: Task,
    pub workspace_id: Option<&'a str>,
    pub run_at: i64,
    pub max_attempts: i64,
}

pub(crate) const JOB_COLUMNS: &str =
    "id, workspace_id, kind, payload, status, run_at, attempts, max_attempts, lease_owner, lease_expires_at, last_error, created_at, updated_at";

/// Inserts a job inside an open transaction, so a domain write and the work it
/// causes commit together (the outbox pattern).
#[macro_export]
macro_rules! insert_job {
    ($tx:expr, $job:expr, $now:expr) => {{
        let job: &$crate::jobs::NewJob<'_> = $job;
        let id = recado_core::ids::new_id(recado_core::ids::IdKind::Job);
        sqlx::query(
            "INSERT INTO jobs (id, workspace_id, kind, payload, status, run_at, attempts, max_attempts, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7, $7)",
        )
        .bind(&id)
        .bind(job.workspace_id)
        .bind(job.task.kind().as_str())
        .bind(job.task.payload().to_string())
        .bind(job.run_at)
        .bind(job.max_attempts)
        .bind($now)
        .execute($tx)
        .await
        .map(|_| id)
    }};
}

/// How long to wait before attempt `attempt + 1`: exponential from 1 s, capped
/// at one hour, with ±20 % jitter so retries of many jobs do not arrive
/// together. A provider's `Retry-After` is honoured when it asks for longer.
pub fn retry_delay_ms(attempt: i64, retry_after_ms: Option<i64>) -> i64 {
    let base = 1_000i64.saturating_mul(1i64 << attempt.clamp(0, 12)).min(3_600_000);
    let jitter = rand::thread_rng().gen_range(-(base / 5)..=(base / 5));
    let delay = base + jitter;
    match retry_after_ms {
        Some(after) if after > delay => after,
        _ => delay,
    }
}

impl Store {
    pub async fn enqueue_job(&self, job: &NewJob<'_>, now: i64) -> Result<String> {
        Ok(on_writer!(self, |pool| insert_job!(pool, job, now)?))
    }

    /// Takes the next due job (optionally of one kind) for `worker`, leased
    /// until `now + lease_ms`. Expired leases are returned to the queue first.
    pub async fn claim_job(&self, worker: &str, kind: Option<JobKind>, now: i64, lease_ms: i64) -> Result<Option<Job>> {
        Ok(self.claim_next(worker, kind, now, lease_ms, None).await?.job)
    }

    /// Like [`Store::claim_job`], and also hands back the jobs whose lease ran
    /// out on their last attempt and were buried on the way, so the caller can
    /// settle what they leave behind (a send that must end in a final state).
    ///
    /// With `dead_before`, the leases of registered nodes whose last
    /// heartbeat is older than that instant are released too (a worker's name
    /// is its node's id, a colon and its number).
    pub async fn claim_next(
        &self,
        worker: &str,
        kind: Option<JobKind>,
        now: i64,
        lease_ms: i64,
        dead_before: Option<i64>,
    ) -> Result<Claim> {
        self.claim_next_except(worker, kind, &[], now, lease_ms, dead_before)
            .await
    }

    /// Like [`Store::claim_next`], leaving jobs of the kinds `except` to
    /// whoever claims them in batches (the send dispatcher).
    pub async fn claim_next_except(
        &self,
        worker: &str,
        kind: Option<JobKind>,
        except: &[JobKind],
        now: i64,
        lease_ms: i64,
        dead_before: Option<i64>,
    ) -> Result<Claim> {
        let buried = self.requeue_expired_leases(now, dead_before).await?;
        let job = self.claim_due(worker, kind, except, now, lease_ms).await?;
        Ok(Claim { job, buried })
    }

    /// The claim of [`Store::claim_next_except`] without returning expired
    /// leases first: for workers whose node sweeps them on its own schedule
    /// ([`Store::requeue_expired_leases`]).
    pub async fn claim_due(
        &self,
        worker: &str,
        kind: Option<JobKind>,
        except: &[JobKind],
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        // The kinds wanted, named one by one (never `kind <> …` nor a
        // parameter that may be NULL), so the claim seeks the index on
        // (status, kind, run_at) instead of walking every due job of the
        // kinds left to others — thousands while a campaign's dials wait
        // for their slots.
        let kinds: Vec<JobKind> = match kind {
            Some(kind) => vec![kind],
            None if except.is_empty() => Vec::new(),
            None => JobKind::ALL.into_iter().filter(|k| !except.contains(k)).collect(),
        };
        // Several kinds: SQLite would rather walk `jobs_ready` in `run_at`
        // order (it spares a sort) past every due job of the other kinds.
        let hint = if kinds.len() > 1 {
            self.dialect().indexed_by("jobs_kind_ready")
        } else {
            String::new()
        };
        let wanted = if kinds.is_empty() {
            String::new()
        } else {
            let list = (0..kinds.len())
                .map(|i| format!("${}", i + 4))
                .collect::<Vec<_>>()
                .join(", ");
            format!(" AND kind IN ({list})")
        };
        let pick = format!(
            "SELECT id FROM jobs{hint} WHERE status = 'queued' AND run_at <= $3{wanted} ORDER BY run_at, id LIMIT 1{}",
            self.dialect().skip_locked()
        );
        let sql = format!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id = ({pick}) RETURNING {JOB_COLUMNS}"
        );
        Ok(on_writer!(self, |pool| {
            let mut q = sqlx::query_as::<_, Job>(&sql)
                .bind(worker)
                .bind(now + lease_ms)
                .bind(now);
            for k in &kinds {
                q = q.bind(k.as_str());
            }
            q.fetch_optional(pool).await?
        }))
    }

    /// Running jobs whose lease ran out, or whose node stopped beating before
    /// `dead_before`, go back to the queue, or to the dead jobs when they have
    /// no attempts left. Returns the jobs buried.
    pub async fn requeue_expired_leases(&self, now: i64, dead_before: Option<i64>) -> Result<Vec<Job>> {
        let sql = format!(
            "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
             lease_owner = NULL, lease_expires_at = NULL, \
             last_error = 'the worker stopped before the job finished (lease expired or node gone)', updated_at = $1 \
             WHERE status = 'running' AND (lease_expires_at < $1 OR ($2 IS NOT NULL AND EXISTS ( \
                 SELECT 1 FROM nodes n WHERE n.heartbeat_at < $2 \
                 AND substr(jobs.lease_owner, 1, length(n.id) + 1) = n.id || ':'))) \
             RETURNING {JOB_COLUMNS}"
        );
        let changed = on_writer!(self, |pool| {
            sqlx::query_as::<_, Job>(&sql)
                .bind(now)
                .bind(dead_before)
                .fetch_all(pool)
                .await?
        });
        Ok(changed.into_iter().filter(|j| j.status == DEAD).collect())
    }

    /// Records a node that runs workers (or its heartbeat).
    pub async fn node_heartbeat(&self, node: &str, now: i64) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
                 ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            )
            .bind(node)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Registers `node`, an instance of the node `base` (`{base}.{instance}`),
    /// and counts the earlier instances of `base` as gone: a node restarted
    /// after a crash replaces the process it was, so the leases and
    /// idempotency keys that process held go to the living at once instead
    /// of after its heartbeat ran out.
    pub async fn start_node(&self, base: &str, node: &str, now: i64) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE nodes SET heartbeat_at = 0 WHERE substr(id, 1, length($1) + 1) = $1 || '.' AND id <> $2",
            )
            .bind(base)
            .bind(node)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
                 ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            )
            .bind(node)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// A node that stops: its row goes, and any lease it still holds is
    /// released at once (the attempt counts).
    pub async fn remove_node(&self, node: &str, now: i64) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
                 lease_owner = NULL, lease_expires_at = NULL, last_error = 'the node stopped before the job finished', \
                 updated_at = $1 WHERE status = 'running' AND substr(lease_owner, 1, length($2) + 1) = $2 || ':'",
            )
            .bind(now)
            .bind(node)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM nodes WHERE id = $1")
                .bind(node)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Marks a job done. False when `worker` no longer holds its lease (the job
    /// was given to another worker meanwhile).
    pub async fn complete_job(&self, id: &str, worker: &str, now: i64) -> Result<bool> {
        Ok(on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, updated_at = $1 \
                 WHERE id = $2 AND status = 'running' AND lease_owner = $3",
            )
            .bind(now)
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected()
                == 1
        }))
    }

    /// Records a failed attempt. With `retry_at` and attempts left, the job is
    /// queued again for that time; otherwise it is dead (kept, visible).
    /// Returns the job's new status, or None when the lease was lost.
    pub async fn fail_job(
        &self,
        id: &str,
        worker: &str,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<Option<&'static str>> {
        let retry = retry_at.is_some();
        let row: Option<String> = on_writer!(self, |pool| {
            sqlx::query_scalar(
                "UPDATE jobs SET status = CASE WHEN $1 AND attempts < max_attempts THEN 'queued' ELSE 'dead' END, \
                 run_at = CASE WHEN $1 AND attempts < max_attempts THEN $2 ELSE run_at END, \
                 lease_owner = NULL, lease_expires_at = NULL, last_error = $3, updated_at = $4 \
                 WHERE id = $5 AND status = 'running' AND lease_owner = $6 RETURNING status",
            )
            .bind(retry)
            .bind(retry_at.unwrap_or(now))
            .bind(error)
            .bind(now)
            .bind(id)
            .bind(worker)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|s| if s == QUEUED { QUEUED } else { DEAD }))
    }

    /// Hands a claimed job back to the queue for `run_at` without counting the
    /// attempt: this node cannot run it (another node holds what it needs, such
    /// as the SMPP bind of its channel). False when the lease was lost.
    pub async fn defer_job(&self, id: &str, worker: &str, run_at: i64, now: i64) -> Result<bool> {
        Ok(on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET status = 'queued', run_at = $1, attempts = attempts - 1, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $2 \
                 WHERE id = $3 AND status = 'running' AND lease_owner = $4",
            )
            .bind(run_at)
            .bind(now)
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected()
                == 1
        }))
    }

    /// Keeps a long job's lease alive.
    pub async fn extend_lease(&self, id: &str, worker: &str, until: i64) -> Result<bool> {
        Ok(on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND status = 'running' AND lease_owner = $3",
            )
            .bind(until)
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected()
                == 1
        }))
    }

    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, Job>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// Jobs by status (newest first), e.g. the dead ones for an admin to inspect.
    pub async fn jobs(
        &self,
        workspace_id: Option<&str>,
        status: Option<&str>,
        before_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 IS NULL OR workspace_id = $1) AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        );
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, Job>(&sql)
                .bind(workspace_id)
                .bind(status)
                .bind(before_id)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }
}

impl Store {
    /// Whether a job of `kind` is waiting for a workspace (for self-scheduling
    /// periodic jobs that must not multiply).
    pub async fn has_queued_job(&self, kind: JobKind, workspace_id: &str) -> Result<bool> {
        let n: i64 = on_reader!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND workspace_id = $2 AND status IN ('queued', 'running')",
            )
            .bind(kind.as_str())
            .bind(workspace_id)
            .fetch_one(pool)
            .await?
        });
        Ok(n > 0)
    }
}

/// How many jobs of one kind are in one state, and the earliest `run_at`
/// among them.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct QueueCount {
    #[sqlx(try_from = "String")]
    pub kind: JobKind,
    pub status: String,
    pub count: i64,
    pub earliest_run_at: i64,
}

impl Store {
    /// The unfinished and dead jobs by kind and state, for the metrics an
    /// operator alerts on (done jobs are not counted: they only grow).
    /// Jobs of a workspace buried after their last attempt since `since`
    /// (read through the status index: only dead jobs are visited).
    pub async fn dead_jobs_since(&self, workspace_id: &str, since: i64) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM jobs WHERE status = 'dead' AND workspace_id = $1 AND updated_at >= $2";
        Ok(on_reader!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(workspace_id)
            .bind(since)
            .fetch_one(pool)
            .await?))
    }

    pub async fn queue_counts(&self) -> Result<Vec<QueueCount>> {
        let sql = "SELECT kind, status, COUNT(*) AS count, MIN(run_at) AS earliest_run_at FROM jobs \
                   WHERE status IN ('queued', 'running', 'dead') GROUP BY kind, status";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, QueueCount>(sql)
            .fetch_all(pool)
            .await?))
    }
}
