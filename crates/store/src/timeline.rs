//! The contact timeline: every event that happened to a contact, newest first.

use crate::campaigns::tally::CampaignEvent;
use crate::messages::{MessageRecord, MESSAGE_COLUMNS};
use crate::write::on_tx;
use crate::{on_reader, Result, Store};
use recado_core::ids::{new_id, IdKind};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct TimelineEvent {
    pub id: String,
    pub contact_id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub at: i64,
    pub message_id: Option<String>,
    pub campaign: Option<String>,
    pub sender: Option<String>,
    pub details: String,
}

/// A new event for [`Store::add_timeline_event`].
#[derive(Clone, Debug)]
pub struct NewTimelineEvent<'a> {
    pub workspace_id: &'a str,
    pub contact_id: &'a str,
    pub kind: &'a str,
    pub at: i64,
    pub message_id: Option<&'a str>,
    pub campaign: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub details: serde_json::Value,
}

impl Store {
    /// Records an event on a contact's timeline, with what it means for
    /// workflows and, when it is about a message, for the message's campaign.
    pub async fn add_timeline_event(&self, e: &NewTimelineEvent<'_>) -> Result<String> {
        let id = new_id(IdKind::Event);
        let mut tx = self.write().await?;
        on_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO timeline_events (id, workspace_id, contact_id, type, at, message_id, campaign, sender, details) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&id)
            .bind(e.workspace_id)
            .bind(e.contact_id)
            .bind(e.kind)
            .bind(e.at)
            .bind(e.message_id)
            .bind(e.campaign)
            .bind(e.sender)
            .bind(e.details.to_string())
            .execute(&mut *conn)
            .await?;
            crate::workflows::on_timeline_event!(
                &mut *conn,
                e.workspace_id,
                e.contact_id,
                e.kind,
                e.at,
                &id,
                e.message_id
            )?;
        });
        if let Some(message_id) = e.message_id {
            let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE workspace_id = $1 AND id = $2");
            let message: Option<MessageRecord> = on_tx!(tx, |conn| sqlx::query_as(&sql)
                .bind(e.workspace_id)
                .bind(message_id)
                .fetch_optional(&mut *conn)
                .await?);
            if let Some(message) = message {
                tx.tally(&[CampaignEvent {
                    message: &message,
                    kind: e.kind,
                    at: e.at,
                    details: &e.details,
                }])
                .await?;
            }
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Newest first; ties in time keep insertion order (ids are time-sortable).
    pub async fn timeline(
        &self,
        workspace_id: &str,
        contact_id: &str,
        before_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<TimelineEvent>> {
        let sql = "SELECT id, contact_id, type, at, message_id, campaign, sender, details FROM timeline_events \
                   WHERE workspace_id = $1 AND contact_id = $2 AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4";
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, TimelineEvent>(sql)
                .bind(workspace_id)
                .bind(contact_id)
                .bind(before_id)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The contact's events at or after `since`, oldest first (what a
    /// workflow run learns about its sends and the contact's replies).
    pub async fn contact_events_since(
        &self,
        workspace_id: &str,
        contact_id: &str,
        since: i64,
    ) -> Result<Vec<TimelineEvent>> {
        let sql = "SELECT id, contact_id, type, at, message_id, campaign, sender, details FROM timeline_events \
                   WHERE workspace_id = $1 AND contact_id = $2 AND at >= $3 ORDER BY at, id";
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, TimelineEvent>(sql)
                .bind(workspace_id)
                .bind(contact_id)
                .bind(since)
                .fetch_all(pool)
                .await?
        }))
    }

    /// [`Store::contact_events_since`] for many contacts at once, ordered
    /// by contact, then time.
    pub async fn contacts_events_since(
        &self,
        workspace_id: &str,
        contact_ids: &[&str],
        since: i64,
    ) -> Result<Vec<TimelineEvent>> {
        let mut out = Vec::new();
        for chunk in contact_ids.chunks(500) {
            let placeholders = (3..chunk.len() + 3)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT id, contact_id, type, at, message_id, campaign, sender, details FROM timeline_events \
                 WHERE workspace_id = $1 AND at >= $2 AND contact_id IN ({placeholders}) ORDER BY contact_id, at, id"
            );
            let rows = on_reader!(self, |pool| {
                let mut query = sqlx::query_as::<_, TimelineEvent>(&sql).bind(workspace_id).bind(since);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }
}
