//! Runs: enrolment, the claim of due runs (the engine's queue), and what a
//! worker writes back inside its transaction — the run, the send each step
//! made, log lines and node counters.

use crate::write::on_tx;
use crate::{on_reader, on_writer, Result, Store, StoreError, WriteTx};
use recado_core::ids::{new_id, IdKind};
use recado_flow::{Outcome, RunStatus};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Most rows one multi-row statement carries.
const ROWS_PER_STATEMENT: usize = 500;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct RunRow {
    pub id: String,
    pub workspace_id: String,
    pub workflow_id: String,
    pub version: i64,
    pub contact_id: String,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub node_id: String,
    pub wake_at: Option<i64>,
    /// The interpreter's run as JSON; None until the run first advances.
    pub state: Option<String>,
    /// The trigger's payload (`{{trigger.data.x}}`) as JSON.
    pub trigger_data: Option<String>,
    pub entered_at: i64,
    pub updated_at: i64,
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
}

pub(crate) const RUN_COLUMNS: &str =
    "id, workspace_id, workflow_id, version, contact_id, status, node_id, wake_at, state, \
     trigger_data, entered_at, updated_at, ended_at, end_reason";

/// Whether a contact who ran through the workflow before may start again
/// (the definition's `settings.reenrolment`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reenrol {
    /// Once per contact, ever.
    Never,
    /// Again once the previous run ended.
    AfterEnd,
    /// Always: a waiting run is ended (`reenrolled`) and a new one starts.
    Always,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The contact has an active run of this workflow.
    AlreadyEnrolled,
    /// The contact ran through this workflow before and it never re-enrols.
    EnrolledBefore,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::AlreadyEnrolled => "already_enrolled",
            SkipReason::EnrolledBefore => "enrolled_before",
        }
    }
}

/// One contact to enrol, with the trigger's payload.
#[derive(Clone, Debug)]
pub struct NewRun {
    pub contact_id: String,
    pub trigger_data: Option<String>,
}

/// Contacts to enrol in one published version.
pub struct Enrolment<'a> {
    pub workspace_id: &'a str,
    pub workflow_id: &'a str,
    pub version: i64,
    pub start_node: &'a str,
    pub reenrol: Reenrol,
    /// When the runs become due (now, or staggered).
    pub now: i64,
    pub contacts: &'a [NewRun],
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Enrolled {
    /// Run id and contact id of each run started.
    pub runs: Vec<(String, String)>,
    pub skipped: Vec<(String, SkipReason)>,
}

/// What a worker writes back for a run it holds.
pub struct RunUpdate<'a> {
    pub id: &'a str,
    pub owner: &'a str,
    pub status: RunStatus,
    pub node_id: &'a str,
    pub wake_at: Option<i64>,
    /// Event types that wake the run early, as `,A,B,`.
    pub awaits: Option<String>,
    pub state: &'a str,
    pub ended_at: Option<i64>,
    pub end_reason: Option<&'a str>,
    pub now: i64,
}

/// The message a send step made, under its idempotency key `run:step:node`.
#[derive(Clone, Debug)]
pub struct WorkflowSend<'a> {
    pub idempotency_key: &'a str,
    pub workspace_id: &'a str,
    pub workflow_id: &'a str,
    pub version: i64,
    pub run_id: &'a str,
    pub node_id: &'a str,
    pub message_id: &'a str,
    pub at: i64,
}

/// A line of the action log; `step` is unique within the run.
#[derive(Clone, Debug)]
pub struct StepLog<'a> {
    pub run_id: &'a str,
    pub step: i64,
    pub workspace_id: &'a str,
    pub workflow_id: &'a str,
    pub version: i64,
    pub contact_id: &'a str,
    pub node_id: &'a str,
    pub action_type: &'a str,
    pub outcome: Outcome,
    pub reason: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub at: i64,
}

/// Wakes a contact's waiting runs that await an event type (`$3` is the
/// `LIKE` pattern `%,TYPE,%` over `awaits`) at `$2`, unless due earlier.
pub(crate) const WAKE_AWAITING: &str =
    "UPDATE workflow_runs SET wake_at = $2 WHERE contact_id = $1 AND status = 'waiting' \
     AND awaits LIKE $3 AND (wake_at IS NULL OR wake_at > $2)";

/// What recording a timeline event means for workflows, in the transaction
/// that records it: the contact's waiting runs that await this kind of event
/// wake at once (instead of at their timeout), and each active workflow with
/// an event trigger on it gets a `workflow.event` job (outbox: an event that
/// is stored always reaches its triggers).
macro_rules! on_timeline_event {
    ($conn:expr, $workspace_id:expr, $contact_id:expr, $kind:expr, $at:expr, $event_id:expr, $message_id:expr) => {{
        let conn = $conn;
        let workspace_id: &str = $workspace_id;
        let contact_id: &str = $contact_id;
        let kind: &str = $kind;
        let at: i64 = $at;
        let event_id: &str = $event_id;
        let message_id: Option<&str> = $message_id;
        let pattern = format!("%,{kind},%");
        let woken = sqlx::query($crate::workflows::WAKE_AWAITING)
            .bind(contact_id)
            .bind(at)
            .bind(pattern)
            .execute(&mut *conn)
            .await;
        match woken {
            Err(e) => Err(e),
            Ok(_) => {
                $crate::workflows::queue_event_triggers!(conn, workspace_id, contact_id, kind, at, event_id, message_id)
            }
        }
    }};
}

/// Queues a `workflow.event` job for each active workflow with an event
/// trigger on `kind` (none, in one statement, when no workflow has one), in
/// the transaction that recorded the event: an event that is stored always
/// reaches its triggers.
macro_rules! queue_event_triggers {
    ($conn:expr, $workspace_id:expr, $contact_id:expr, $kind:expr, $at:expr, $event_id:expr, $message_id:expr) => {{
        let conn = $conn;
        let workspace_id: &str = $workspace_id;
        let contact_id: &str = $contact_id;
        let kind: &str = $kind;
        let at: i64 = $at;
        let event_id: &str = $event_id;
        let message_id: Option<&str> = $message_id;
        // The payload is written whole except the workflow id, which each
        // trigger row adds (ids are plain ASCII).
        let known = serde_json::json!({
            "workspace_id": workspace_id, "contact_id": contact_id, "event": kind,
            "event_id": event_id, "message_id": message_id,
        })
        .to_string();
        let head = format!("{},\"workflow_id\":\"", &known[..known.len() - 1]);
        sqlx::query(
            "INSERT INTO jobs (id, workspace_id, kind, payload, status, run_at, attempts, max_attempts, created_at, updated_at) \
             SELECT 'job_' || $3 || '_' || t.workflow_id, $1, 'workflow.event', $4 || t.workflow_id || '\"}', 'queued', $5, 0, 5, $5, $5 \
             FROM workflow_event_triggers t WHERE t.workspace_id = $1 AND t.event = $2",
        )
        .bind(workspace_id)
        .bind(kind)
        .bind(event_id)
        .bind(head)
        .bind(at)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    }};
}
pub(crate) use {on_timeline_event, queue_event_triggers};

impl Store {
    /// Enrols contacts in one transaction, many rows per statement: the
    /// re-enrolment rule is applied against the contacts' earlier runs, the
    /// unique index on active runs keeps one per contact, each run started
    /// gets `WORKFLOW_ENROLLED` on the contact's timeline.
    pub async fn enrol(&self, e: &Enrolment<'_>) -> Result<Enrolled> {
        let mut out = Enrolled::default();
        let mut tx = self.write().await?;
        for chunk in e.contacts.chunks(ROWS_PER_STATEMENT) {
            let ids: Vec<&str> = chunk.iter().map(|c| c.contact_id.as_str()).collect();
            let earlier = tx.earlier_runs(e.workspace_id, e.workflow_id, &ids).await?;
            let mut admitted = Vec::with_capacity(chunk.len());
            let mut seen = HashSet::new();
            for c in chunk {
                if !seen.insert(c.contact_id.as_str()) {
                    out.skipped.push((c.contact_id.clone(), SkipReason::AlreadyEnrolled));
                    continue;
                }
                match (earlier.get(c.contact_id.as_str()), e.reenrol) {
                    (None, _) => admitted.push(c),
                    (Some(Earlier::Active), Reenrol::Always) => admitted.push(c),
                    (Some(Earlier::Active), _) => out.skipped.push((c.contact_id.clone(), SkipReason::AlreadyEnrolled)),
                    (Some(Earlier::Ended), Reenrol::Never) => {
                        out.skipped.push((c.contact_id.clone(), SkipReason::EnrolledBefore))
                    }
                    (Some(Earlier::Ended), _) => admitted.push(c),
                }
            }
            if e.reenrol == Reenrol::Always {
                let active: Vec<&str> = admitted
                    .iter()
                    .filter(|c| matches!(earlier.get(c.contact_id.as_str()), Some(Earlier::Active)))
                    .map(|c| c.contact_id.as_str())
                    .collect();
                tx.end_runs_for_reenrolment(e, &active).await?;
            }
            let inserted = tx.insert_runs(e, &admitted).await?;
            let inserted_contacts: HashSet<&str> = inserted.iter().map(|(_, c)| c.as_str()).collect();
            for c in &admitted {
                if !inserted_contacts.contains(c.contact_id.as_str()) {
                    // A run still held by a worker, or enrolled meanwhile.
                    out.skipped.push((c.contact_id.clone(), SkipReason::AlreadyEnrolled));
                }
            }
            tx.enrolment_timeline(e, &inserted).await?;
            out.runs.extend(inserted);
        }
        let count = out.runs.len() as i64;
        if count > 0 {
            on_tx!(tx, |conn| sqlx::query(
                "UPDATE workflows SET enrolled = enrolled + $2 WHERE id = $1"
            )
            .bind(e.workflow_id)
            .bind(count)
            .execute(&mut *conn)
            .await
            .map(|_| ())?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Claims up to `limit` due runs of active workflows for `owner`, leased
    /// until `now + lease_ms`. Runs whose lease ran out (their worker died)
    /// go back to the queue first, due at once: every effect of a step is
    /// keyed by the step, so carrying it out again does nothing twice.
    pub async fn claim_runs(&self, owner: &str, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<RunRow>> {
        let pick = format!(
            "SELECT r.id FROM workflow_runs r WHERE r.status IN ('ready', 'waiting') AND r.wake_at <= $3 \
             AND EXISTS (SELECT 1 FROM workflows w WHERE w.id = r.workflow_id AND w.status = 'active') \
             ORDER BY r.wake_at LIMIT $4{}",
            self.dialect().skip_locked()
        );
        let sql = format!(
            "UPDATE workflow_runs SET status = 'running', lease_owner = $1, lease_until = $2 WHERE id IN ({pick}) RETURNING {RUN_COLUMNS}"
        );
        Ok(on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE workflow_runs SET status = CASE WHEN state IS NULL THEN 'ready' ELSE 'waiting' END, \
                 wake_at = $1, lease_owner = NULL, lease_until = NULL WHERE status = 'running' AND lease_until < $1",
            )
            .bind(now)
            .execute(pool)
            .await?;
            sqlx::query_as::<_, RunRow>(&sql)
                .bind(owner)
                .bind(now + lease_ms)
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The earliest time a run of an active workflow is due, if any (the
    /// engine sleeps until then).
    pub async fn next_run_due(&self) -> Result<Option<i64>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, (Option<i64>,)>(
            "SELECT MIN(r.wake_at) FROM workflow_runs r WHERE r.status IN ('ready', 'waiting') AND r.wake_at IS NOT NULL"
        )
        .fetch_one(pool)
        .await?)
        .0)
    }

    /// The message a workflow send step made, by its idempotency key.
    pub async fn workflow_send(&self, idempotency_key: &str) -> Result<Option<String>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, (String,)>(
            "SELECT message_id FROM workflow_sends WHERE idempotency_key = $1"
        )
        .bind(idempotency_key)
        .fetch_optional(pool)
        .await?)
        .map(|(m,)| m))
    }

    /// The sends recorded for runs, as `(idempotency key, message id)`: the
    /// engine reads those of a claimed batch at once.
    pub async fn workflow_sends_of_runs(&self, run_ids: &[&str]) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for chunk in run_ids.chunks(ROWS_PER_STATEMENT) {
            let placeholders = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql =
                format!("SELECT idempotency_key, message_id FROM workflow_sends WHERE run_id IN ({placeholders})");
            let rows: Vec<(String, String)> = on_reader!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Wakes the contact's waiting runs that await `kind` (or `EXIT`, for a
    /// change that may meet a workflow's exit condition).
    pub async fn wake_runs_awaiting(&self, contact_id: &str, kind: &str, at: i64) -> Result<()> {
        on_writer!(self, |pool| sqlx::query(WAKE_AWAITING)
            .bind(contact_id)
            .bind(at)
            .bind(format!("%,{kind},%"))
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// Replaces the events that enrol contacts in the workflow (its event
    /// triggers while active; none while paused or draft).
    pub async fn set_event_triggers(&self, workspace_id: &str, workflow_id: &str, events: &[String]) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM workflow_event_triggers WHERE workflow_id = $1")
                .bind(workflow_id)
                .execute(&mut *tx)
                .await?;
            for event in events {
                sqlx::query(
                    "INSERT INTO workflow_event_triggers (workspace_id, event, workflow_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(workspace_id)
                .bind(event)
                .bind(workflow_id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn run(&self, workspace_id: &str, id: &str) -> Result<RunRow> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM workflow_runs WHERE workspace_id = $1 AND id = $2");
        on_reader!(self, |pool| sqlx::query_as::<_, RunRow>(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }
}

enum Earlier {
    Active,
    Ended,
}

impl WriteTx {
    /// Whether each contact has an active run, or only ended ones. Looked up
    /// by contact (`workflow_runs_by_contact`): by workflow it would read every
    /// run of the workflow for each chunk, quadratic in a large enrolment.
    async fn earlier_runs(
        &mut self,
        workspace_id: &str,
        workflow_id: &str,
        contact_ids: &[&str],
    ) -> Result<HashMap<String, Earlier>> {
        if contact_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, String)> = on_tx!(self, |conn| {
            let mut q = sqlx::QueryBuilder::new("SELECT contact_id, status FROM workflow_runs WHERE workspace_id = ");
            q.push_bind(workspace_id).push(" AND workflow_id = ");
            q.push_bind(workflow_id).push(" AND contact_id IN (");
            let mut list = q.separated(", ");
            for id in contact_ids {
                list.push_bind(*id);
            }
            q.push(")");
            q.build_query_as().fetch_all(&mut *conn).await?
        });
        let mut out = HashMap::new();
        for (contact, status) in rows {
            let active = matches!(status.as_str(), "ready" | "running" | "waiting");
            let entry = out.entry(contact).or_insert(Earlier::Ended);
            if active {
                *entry = Earlier::Active;
            }
        }
        Ok(out)
    }

    /// Ends the waiting runs of contacts enrolled again (`reenrolment:
    /// always`). A run a worker holds right now is left alone; its contact is
    /// then skipped by the unique index.
    async fn end_runs_for_reenrolment(&mut self, e: &Enrolment<'_>, contact_ids: &[&str]) -> Result<()> {
        if contact_ids.is_empty() {
            return Ok(());
        }
        let ended: Vec<(String, String)> = on_tx!(self, |conn| {
            let mut q = sqlx::QueryBuilder::new(
                "UPDATE workflow_runs SET status = 'exited', end_reason = 'reenrolled', wake_at = NULL, awaits = NULL, ended_at = ",
            );
            q.push_bind(e.now).push(", updated_at = ").push_bind(e.now);
            q.push(" WHERE workflow_id = ").push_bind(e.workflow_id);
            q.push(" AND status IN ('ready', 'waiting') AND contact_id IN (");
            let mut list = q.separated(", ");
            for id in contact_ids {
                list.push_bind(*id);
            }
            q.push(") RETURNING id, contact_id");
            q.build_query_as().fetch_all(&mut *conn).await?
        });
        self.run_timeline(
            e.workspace_id,
            e.workflow_id,
            "WORKFLOW_EXITED",
            e.now,
            &ended,
            Some("reenrolled"),
        )
        .await
    }

    async fn insert_runs(&mut self, e: &Enrolment<'_>, contacts: &[&NewRun]) -> Result<Vec<(String, String)>> {
        if contacts.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, &NewRun)> = contacts.iter().map(|c| (new_id(IdKind::Run), *c)).collect();
        Ok(on_tx!(self, |conn| {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO workflow_runs (id, workspace_id, workflow_id, version, contact_id, status, node_id, wake_at, \
                 state, trigger_data, entered_at, updated_at) ",
            );
            q.push_values(&rows, |mut row, (id, c)| {
                row.push_bind(id)
                    .push_bind(e.workspace_id)
                    .push_bind(e.workflow_id)
                    .push_bind(e.version)
                    .push_bind(&c.contact_id)
                    .push_bind("ready")
                    .push_bind(e.start_node)
                    .push_bind(e.now)
                    .push_bind(None::<String>)
                    .push_bind(&c.trigger_data)
                    .push_bind(e.now)
                    .push_bind(e.now);
            });
            q.push(" ON CONFLICT DO NOTHING RETURNING id, contact_id");
            q.build_query_as::<(String, String)>().fetch_all(&mut *conn).await?
        }))
    }

    async fn enrolment_timeline(&mut self, e: &Enrolment<'_>, runs: &[(String, String)]) -> Result<()> {
        self.run_timeline(e.workspace_id, e.workflow_id, "WORKFLOW_ENROLLED", e.now, runs, None)
            .await
    }

    /// Timeline entries about runs (`WORKFLOW_ENROLLED`, `…_COMPLETED`,
    /// `…_EXITED`), with the workflow, the run and the reason.
    pub async fn run_timeline(
        &mut self,
        workspace_id: &str,
        workflow_id: &str,
        kind: &str,
        at: i64,
        runs: &[(String, String)],
        reason: Option<&str>,
    ) -> Result<()> {
        for chunk in runs.chunks(ROWS_PER_STATEMENT) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO timeline_events (id, workspace_id, contact_id, type, at, message_id, campaign, sender, details) ",
                );
                q.push_values(chunk, |mut row, (run_id, contact_id)| {
                    let details = serde_json::json!({"workflow_id": workflow_id, "run_id": run_id, "reason": reason});
                    row.push_bind(new_id(IdKind::Event))
                        .push_bind(workspace_id)
                        .push_bind(contact_id)
                        .push_bind(kind)
                        .push_bind(at)
                        .push_bind(None::<String>)
                        .push_bind(None::<String>)
                        .push_bind(None::<String>)
                        .push_bind(details.to_string());
                });
                q.build().execute(&mut *conn).await?;
            });
        }
        Ok(())
    }

    /// Writes back runs this worker holds, many per statement; the number of
    /// runs written back. Fewer than asked means a lease was lost (another
    /// worker took a run over): the caller must roll back.
    pub async fn update_runs(&mut self, owner: &str, updates: &[RunUpdate<'_>]) -> Result<u64> {
        let mut done = 0;
        // 10 values a row: 100 rows stay far below either backend's limit.
        for chunk in updates.chunks(100) {
            done += on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "WITH v(id, status, node_id, wake_at, awaits, state, ended_at, end_reason, updated_at) AS (",
                );
                q.push_values(chunk, |mut b, u| {
                    b.push_bind(u.id)
                        .push_bind(u.status.as_str())
                        .push_bind(u.node_id)
                        .push_bind(u.wake_at)
                        .push_bind(u.awaits.as_deref())
                        .push_bind(u.state)
                        .push_bind(u.ended_at)
                        .push_bind(u.end_reason)
                        .push_bind(u.now);
                });
                q.push(
                    ") UPDATE workflow_runs SET status = v.status, node_id = v.node_id, wake_at = v.wake_at, \
                     awaits = v.awaits, state = v.state, ended_at = v.ended_at, end_reason = v.end_reason, \
                     updated_at = v.updated_at, lease_owner = NULL, lease_until = NULL \
                     FROM v WHERE workflow_runs.id = v.id AND workflow_runs.lease_owner = ",
                );
                q.push_bind(owner);
                q.push(" AND workflow_runs.status = 'running'");
                q.build().execute(&mut *conn).await?.rows_affected()
            });
        }
        Ok(done)
    }

    /// Records the message a send step made under its idempotency key; a
    /// second record of the same key is a conflict (the step ran twice).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_workflow_send(
        &mut self,
        idempotency_key: &str,
        workspace_id: &str,
        workflow_id: &str,
        version: i64,
        run_id: &str,
        node_id: &str,
        message_id: &str,
        now: i64,
    ) -> Result<()> {
        on_tx!(self, |conn| {
            sqlx::query(
            "INSERT INTO workflow_sends (idempotency_key, workspace_id, workflow_id, version, run_id, node_id, message_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(idempotency_key)
        .bind(workspace_id)
        .bind(workflow_id)
        .bind(version)
        .bind(run_id)
        .bind(node_id)
        .bind(message_id)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| StoreError::unique_as_conflict(e, "this workflow step already sent"))?
        });
        Ok(())
    }

    /// [`WriteTx::record_workflow_send`] for many sends, many per statement.
    pub async fn record_workflow_sends(&mut self, sends: &[WorkflowSend<'_>]) -> Result<()> {
        for chunk in sends.chunks(ROWS_PER_STATEMENT) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO workflow_sends (idempotency_key, workspace_id, workflow_id, version, run_id, node_id, message_id, created_at) ",
                );
                q.push_values(chunk, |mut b, s| {
                    b.push_bind(s.idempotency_key)
                        .push_bind(s.workspace_id)
                        .push_bind(s.workflow_id)
                        .push_bind(s.version)
                        .push_bind(s.run_id)
                        .push_bind(s.node_id)
                        .push_bind(s.message_id)
                        .push_bind(s.at);
                });
                q.build()
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| StoreError::unique_as_conflict(e, "this workflow step already sent"))?;
            });
        }
        Ok(())
    }

    /// Appends log lines and adds them to the node counters.
    pub async fn log_steps(&mut self, lines: &[StepLog<'_>]) -> Result<()> {
        let mut counts: BTreeMap<(&str, &str, i64, &str, &'static str, &str), i64> = BTreeMap::new();
        for chunk in lines.chunks(ROWS_PER_STATEMENT) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO workflow_log (run_id, step, workspace_id, workflow_id, version, contact_id, node_id, action_type, \
                     outcome, reason, message_id, at) ",
                );
                q.push_values(chunk, |mut row, l| {
                    row.push_bind(l.run_id)
                        .push_bind(l.step)
                        .push_bind(l.workspace_id)
                        .push_bind(l.workflow_id)
                        .push_bind(l.version)
                        .push_bind(l.contact_id)
                        .push_bind(l.node_id)
                        .push_bind(l.action_type)
                        .push_bind(l.outcome.as_str())
                        .push_bind(l.reason)
                        .push_bind(l.message_id)
                        .push_bind(l.at);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *conn).await?;
            });
        }
        for l in lines {
            *counts
                .entry((
                    l.workspace_id,
                    l.workflow_id,
                    l.version,
                    l.node_id,
                    l.outcome.as_str(),
                    l.reason.unwrap_or(""),
                ))
                .or_default() += 1;
        }
        let counts: Vec<_> = counts.into_iter().collect();
        for chunk in counts.chunks(ROWS_PER_STATEMENT) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO workflow_node_stats (workspace_id, workflow_id, version, node_id, outcome, reason, n) ",
                );
                q.push_values(
                    chunk,
                    |mut row, ((workspace_id, workflow_id, version, node_id, outcome, reason), n)| {
                        row.push_bind(*workspace_id)
                            .push_bind(*workflow_id)
                            .push_bind(*version)
                            .push_bind(*node_id)
                            .push_bind(*outcome)
                            .push_bind(*reason)
                            .push_bind(*n);
                    },
                );
                q.push(
                    " ON CONFLICT (workflow_id, version, node_id, outcome, reason) DO UPDATE SET n = workflow_node_stats.n + excluded.n",
                );
                q.build().execute(&mut *conn).await?;
            });
        }
        Ok(())
    }
}
