//! Workflow rows and their published versions.

use crate::{on_reader, on_writer, Result, Store, StoreError};
use recado_flow::WorkflowStatus;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct WorkflowRecord {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub status: WorkflowStatus,
    /// The draft definition as JSON (already validated when saved).
    pub draft: String,
    /// The latest published version number.
    pub version: Option<i64>,
    /// The secret of the incoming webhook trigger, sealed.
    pub webhook_secret: Option<String>,
    /// Runs ever started, counted as they are enrolled.
    pub enrolled: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewWorkflow<'a> {
    pub id: &'a str,
    pub workspace_id: &'a str,
    pub name: &'a str,
    pub draft: &'a str,
    pub webhook_secret: Option<&'a str>,
    pub now: i64,
}

const WORKFLOW_COLUMNS: &str =
    "id, workspace_id, name, status, draft, version, webhook_secret, enrolled, created_at, updated_at";

impl Store {
    /// Names of the workflows whose draft or any published version names the
    /// segment `segment_id` (a trigger or a condition), so a segment in use is
    /// not deleted from under them. Ids are unique random strings, so the
    /// quoted id found in a definition's JSON is a reference to it.
    pub async fn workflows_naming_segment(&self, workspace_id: &str, segment_id: &str) -> Result<Vec<String>> {
        let needle = format!("%\"{segment_id}\"%");
        let names: Vec<String> = on_reader!(self, |pool| {
            sqlx::query_scalar(
                "SELECT name FROM workflows w WHERE w.workspace_id = $1 AND (w.draft LIKE $2 OR EXISTS \
                 (SELECT 1 FROM workflow_versions v WHERE v.workflow_id = w.id AND v.definition LIKE $2)) ORDER BY name",
            )
            .bind(workspace_id)
            .bind(&needle)
            .fetch_all(pool)
            .await?
        });
        Ok(names)
    }

    pub async fn insert_workflow(&self, w: &NewWorkflow<'_>) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO workflows (id, workspace_id, name, status, draft, version, webhook_secret, enrolled, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'draft', $4, NULL, $5, 0, $6, $6)",
            )
            .bind(w.id)
            .bind(w.workspace_id)
            .bind(w.name)
            .bind(w.draft)
            .bind(w.webhook_secret)
            .bind(w.now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn workflow(&self, workspace_id: &str, id: &str) -> Result<WorkflowRecord> {
        let sql = format!("SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE workspace_id = $1 AND id = $2");
        on_reader!(self, |pool| sqlx::query_as::<_, WorkflowRecord>(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    /// A workflow by id alone (its public webhook URL names no workspace).
    pub async fn workflow_any(&self, id: &str) -> Result<WorkflowRecord> {
        let sql = format!("SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE id = $1");
        on_reader!(self, |pool| sqlx::query_as::<_, WorkflowRecord>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    /// A page of the workspace's workflows, oldest first, after `after`.
    pub async fn workflows(&self, workspace_id: &str, after: Option<&str>, limit: i64) -> Result<Vec<WorkflowRecord>> {
        let sql = format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE workspace_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        );
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, WorkflowRecord>(&sql)
            .bind(workspace_id)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Active workflows of every workspace (the trigger dispatchers read them).
    pub async fn active_workflows(&self, workspace_id: &str) -> Result<Vec<WorkflowRecord>> {
        let sql = format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE workspace_id = $1 AND status = 'active' ORDER BY id"
        );
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, WorkflowRecord>(&sql)
            .bind(workspace_id)
            .fetch_all(pool)
            .await?))
    }

    pub async fn update_workflow(
        &self,
        workspace_id: &str,
        id: &str,
        name: Option<&str>,
        draft: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let done = on_writer!(self, |pool| sqlx::query(
            "UPDATE workflows SET name = COALESCE($3, name), draft = COALESCE($4, draft), updated_at = $5 \
             WHERE workspace_id = $1 AND id = $2"
        )
        .bind(workspace_id)
        .bind(id)
        .bind(name)
        .bind(draft)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        StoreError::found(done)
    }

    /// Sets the status if it is still `expected` (two admins acting at once
    /// cannot both win); Conflict otherwise.
    pub async fn set_workflow_status(
        &self,
        workspace_id: &str,
        id: &str,
        expected: WorkflowStatus,
        status: WorkflowStatus,
        now: i64,
    ) -> Result<()> {
        let done = on_writer!(self, |pool| sqlx::query(
            "UPDATE workflows SET status = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2 AND status = $3"
        )
        .bind(workspace_id)
        .bind(id)
        .bind(expected.as_str())
        .bind(status.as_str())
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        if done == 0 {
            return Err(StoreError::Conflict("the workflow changed status meanwhile".into()));
        }
        Ok(())
    }

    /// Deletes a workflow with its versions, runs, sends, log and counters.
    pub async fn delete_workflow(&self, workspace_id: &str, id: &str) -> Result<()> {
        let done = on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            for table in [
                "workflow_triggers",
                "workflow_node_stats",
                "workflow_log",
                "workflow_sends",
                "workflow_runs",
                "workflow_versions",
            ] {
                sqlx::query(&format!(
                    "DELETE FROM {table} WHERE workflow_id = $1 AND workspace_id = $2"
                ))
                .bind(id)
                .bind(workspace_id)
                .execute(&mut *tx)
                .await?;
            }
            let done = sqlx::query("DELETE FROM workflows WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            done
        });
        StoreError::found(done)
    }

    /// Publishes `definition` as the workflow's next version; returns its number.
    pub async fn publish_workflow(&self, workspace_id: &str, id: &str, definition: &str, now: i64) -> Result<i64> {
        let lock = format!(
            "SELECT version FROM workflows WHERE workspace_id = $1 AND id = $2{}",
            self.dialect().for_update()
        );
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let current: Option<(Option<i64>,)> = sqlx::query_as(&lock)
                .bind(workspace_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((current,)) = current else {
                return Err(StoreError::NotFound);
            };
            let number = current.unwrap_or(0) + 1;
            sqlx::query(
                "INSERT INTO workflow_versions (workflow_id, number, workspace_id, definition, published_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(number)
            .bind(workspace_id)
            .bind(definition)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE workflows SET version = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(id)
                .bind(number)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(number)
        })
    }

    /// The definition JSON of a published version.
    pub async fn workflow_version(&self, workflow_id: &str, number: i64) -> Result<String> {
        on_reader!(self, |pool| sqlx::query_as::<_, (String,)>(
            "SELECT definition FROM workflow_versions WHERE workflow_id = $1 AND number = $2"
        )
        .bind(workflow_id)
        .bind(number)
        .fetch_optional(pool)
        .await?)
        .map(|(d,)| d)
        .ok_or(StoreError::NotFound)
    }

    /// Version numbers and publication times, oldest first.
    pub async fn workflow_versions(&self, workflow_id: &str) -> Result<Vec<(i64, i64)>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, (i64, i64)>(
            "SELECT number, published_at FROM workflow_versions WHERE workflow_id = $1 ORDER BY number"
        )
        .bind(workflow_id)
        .fetch_all(pool)
        .await?))
    }

    pub async fn set_workflow_secret(&self, workspace_id: &str, id: &str, sealed: &str) -> Result<()> {
        let done = on_writer!(self, |pool| sqlx::query(
            "UPDATE workflows SET webhook_secret = $3 WHERE workspace_id = $1 AND id = $2"
        )
        .bind(workspace_id)
        .bind(id)
        .bind(sealed)
        .execute(pool)
        .await?
        .rows_affected());
        StoreError::found(done)
    }
}
