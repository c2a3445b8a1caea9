//! What the workflow pages read beyond the API's queries: run counts of
//! every workflow of a workspace in one statement, and a contact's runs
//! across workflows (with the workflow's name), newest first.

use super::runs::RunRow;
use crate::{on_reader, Result, Store};
use recado_flow::RunStatus;

/// Runs of one workflow in one status.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct WorkflowStatusCount {
    pub workflow_id: String,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub n: i64,
}

/// A contact's run with the name of its workflow.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ContactRun {
    #[sqlx(flatten)]
    pub run: RunRow,
    pub workflow_name: String,
}

impl Store {
    /// Runs by workflow and status, over every workflow of the workspace.
    pub async fn workflow_status_counts(&self, workspace_id: &str) -> Result<Vec<WorkflowStatusCount>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, WorkflowStatusCount>(
            "SELECT workflow_id, status, COUNT(*) AS n FROM workflow_runs WHERE workspace_id = $1 \
             GROUP BY workflow_id, status"
        )
        .bind(workspace_id)
        .fetch_all(pool)
        .await?))
    }

    /// The contact's runs of every workflow, newest first.
    pub async fn contact_runs(&self, workspace_id: &str, contact_id: &str, limit: i64) -> Result<Vec<ContactRun>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, ContactRun>(
            "SELECT r.id, r.workspace_id, r.workflow_id, r.version, r.contact_id, r.status, r.node_id, r.wake_at, \
             r.state, r.trigger_data, r.entered_at, r.updated_at, r.ended_at, r.end_reason, w.name AS workflow_name \
             FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id \
             WHERE r.workspace_id = $1 AND r.contact_id = $2 \
             ORDER BY r.entered_at DESC, r.id DESC LIMIT $3"
        )
        .bind(workspace_id)
        .bind(contact_id)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }
}
