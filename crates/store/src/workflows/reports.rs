//! What the API shows of a workflow: runs, the action log (newest first),
//! and the counts of its performance page.

use super::runs::{RunRow, RUN_COLUMNS};
use crate::{on_reader, Result, Store};
use recado_flow::{Outcome, RunStatus};

/// Which runs to list. `status` `active` stands for ready, running and waiting.
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    pub statuses: Vec<RunStatus>,
    pub contact_id: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

#[derive(Clone, Debug, Default)]
pub struct LogFilter {
    pub action_type: Option<String>,
    pub outcome: Option<Outcome>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Keyset cursor: the `(at, run_id, step)` of the last line seen.
    pub before: Option<(i64, String, i64)>,
    pub limit: i64,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct LogLine {
    pub at: i64,
    pub run_id: String,
    pub step: i64,
    pub version: i64,
    pub contact_id: String,
    pub node_id: String,
    pub action_type: String,
    #[sqlx(try_from = "String")]
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub message_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct VersionCounts {
    pub version: i64,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub n: i64,
}

/// Run counts by status over every version.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatusCounts {
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub failed: i64,
}

impl StatusCounts {
    pub fn add(&mut self, status: RunStatus, n: i64) {
        match status {
            RunStatus::Ready | RunStatus::Running | RunStatus::Waiting => self.active += n,
            RunStatus::Completed => self.completed += n,
            RunStatus::Exited => self.exited += n,
            RunStatus::Failed => self.failed += n,
        }
    }
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct NodeStat {
    pub version: i64,
    pub node_id: String,
    #[sqlx(try_from = "String")]
    pub outcome: Outcome,
    pub reason: String,
    pub n: i64,
}

impl Store {
    pub async fn runs(&self, workspace_id: &str, workflow_id: &str, f: &RunFilter) -> Result<Vec<RunRow>> {
        let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
        Ok(on_reader!(self, |pool| {
            let mut q =
                sqlx::QueryBuilder::new(format!("SELECT {RUN_COLUMNS} FROM workflow_runs WHERE workspace_id = "));
            q.push_bind(workspace_id)
                .push(" AND workflow_id = ")
                .push_bind(workflow_id);
            if !statuses.is_empty() {
                q.push(" AND status IN (");
                let mut list = q.separated(", ");
                for s in &statuses {
                    list.push_bind(*s);
                }
                q.push(")");
            }
            if let Some(contact) = &f.contact_id {
                q.push(" AND contact_id = ").push_bind(contact);
            }
            if let Some(after) = &f.after {
                q.push(" AND id > ").push_bind(after);
            }
            q.push(" ORDER BY id LIMIT ").push_bind(f.limit);
            q.build_query_as::<RunRow>().fetch_all(pool).await?
        }))
    }

    pub async fn workflow_log(&self, workspace_id: &str, workflow_id: &str, f: &LogFilter) -> Result<Vec<LogLine>> {
        Ok(on_reader!(self, |pool| {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT at, run_id, step, version, contact_id, node_id, action_type, outcome, reason, message_id \
                 FROM workflow_log WHERE workspace_id = ",
            );
            q.push_bind(workspace_id)
                .push(" AND workflow_id = ")
                .push_bind(workflow_id);
            if let Some(action_type) = &f.action_type {
                q.push(" AND action_type = ").push_bind(action_type);
            }
            if let Some(outcome) = f.outcome {
                q.push(" AND outcome = ").push_bind(outcome.as_str());
            }
            if let Some(since) = f.since {
                q.push(" AND at >= ").push_bind(since);
            }
            if let Some(until) = f.until {
                q.push(" AND at <= ").push_bind(until);
            }
            if let Some((at, run_id, step)) = &f.before {
                q.push(" AND (at < ").push_bind(*at);
                q.push(" OR (at = ")
                    .push_bind(*at)
                    .push(" AND run_id < ")
                    .push_bind(run_id);
                q.push(") OR (at = ")
                    .push_bind(*at)
                    .push(" AND run_id = ")
                    .push_bind(run_id);
                q.push(" AND step < ").push_bind(*step).push("))");
            }
            q.push(" ORDER BY at DESC, run_id DESC, step DESC LIMIT ")
                .push_bind(f.limit);
            q.build_query_as::<LogLine>().fetch_all(pool).await?
        }))
    }

    /// Runs by version and status.
    pub async fn run_counts(&self, workflow_id: &str) -> Result<Vec<VersionCounts>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, VersionCounts>(
            "SELECT version, status, COUNT(*) AS n FROM workflow_runs WHERE workflow_id = $1 GROUP BY version, status"
        )
        .bind(workflow_id)
        .fetch_all(pool)
        .await?))
    }

    /// Active runs by version and the node they are at.
    pub async fn runs_at_nodes(&self, workflow_id: &str) -> Result<Vec<(i64, String, i64)>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, (i64, String, i64)>(
            "SELECT version, node_id, COUNT(*) FROM workflow_runs WHERE workflow_id = $1 \
             AND status IN ('ready', 'running', 'waiting') GROUP BY version, node_id"
        )
        .bind(workflow_id)
        .fetch_all(pool)
        .await?))
    }

    pub async fn node_stats(&self, workflow_id: &str) -> Result<Vec<NodeStat>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, NodeStat>(
            "SELECT version, node_id, outcome, reason, n FROM workflow_node_stats WHERE workflow_id = $1"
        )
        .bind(workflow_id)
        .fetch_all(pool)
        .await?))
    }
}
