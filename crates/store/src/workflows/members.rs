//! Who is known to match the segment of a workflow's segment trigger: the
//! memory that tells "came to match" from "still matches".

use crate::{on_reader, on_writer, Result, Store};

impl Store {
    /// Records contacts as matching the workflow's segment; returns those
    /// that were not recorded before (they came to match).
    pub async fn record_segment_members(
        &self,
        workspace_id: &str,
        workflow_id: &str,
        contact_ids: &[&str],
        now: i64,
    ) -> Result<Vec<String>> {
        let mut added = Vec::new();
        for chunk in contact_ids.chunks(500) {
            let rows: Vec<(String,)> = on_writer!(self, |pool| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO workflow_segment_members (workflow_id, contact_id, workspace_id, since) ",
                );
                q.push_values(chunk, |mut b, contact| {
                    b.push_bind(workflow_id)
                        .push_bind(*contact)
                        .push_bind(workspace_id)
                        .push_bind(now);
                });
                q.push(" ON CONFLICT DO NOTHING RETURNING contact_id");
                q.build_query_as().fetch_all(pool).await?
            });
            added.extend(rows.into_iter().map(|(c,)| c));
        }
        Ok(added)
    }

    /// Forgets that a contact matched (it no longer does); true if it was
    /// recorded.
    pub async fn forget_segment_member(&self, workflow_id: &str, contact_id: &str) -> Result<bool> {
        let n = on_writer!(self, |pool| sqlx::query(
            "DELETE FROM workflow_segment_members WHERE workflow_id = $1 AND contact_id = $2"
        )
        .bind(workflow_id)
        .bind(contact_id)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Whether the contact is recorded as matching the workflow's segment.
    pub async fn is_segment_member(&self, workflow_id: &str, contact_id: &str) -> Result<bool> {
        let n: i64 = on_reader!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM workflow_segment_members WHERE workflow_id = $1 AND contact_id = $2"
        )
        .bind(workflow_id)
        .bind(contact_id)
        .fetch_one(pool)
        .await?);
        Ok(n > 0)
    }
}
