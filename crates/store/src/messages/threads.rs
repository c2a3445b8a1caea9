//! Thread and ticket lookups: a thread by id or by contact and account, its
//! current ticket, its contact's latest inbound message and address.

use super::{ThreadRecord, TicketRecord, THREAD_COLUMNS, TICKET_COLUMNS};
use crate::{on_reader, Result, Store, StoreError};

impl Store {
    pub async fn thread(&self, workspace_id: &str, id: &str) -> Result<ThreadRecord> {
        let sql = format!("SELECT {THREAD_COLUMNS} FROM threads WHERE workspace_id = $1 AND id = $2");
        on_reader!(self, |pool| sqlx::query_as::<_, ThreadRecord>(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    /// The thread of a contact on one channel account, if any.
    pub async fn thread_for(
        &self,
        workspace_id: &str,
        contact_id: &str,
        channel_id: &str,
        account: &str,
    ) -> Result<Option<ThreadRecord>> {
        let sql = format!("SELECT {THREAD_COLUMNS} FROM threads WHERE workspace_id = $1 AND contact_id = $2 AND channel_id = $3 AND account = $4");
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, ThreadRecord>(&sql)
                .bind(workspace_id)
                .bind(contact_id)
                .bind(channel_id)
                .bind(account)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The newest ticket of a thread.
    pub async fn current_ticket(&self, thread_id: &str) -> Result<Option<TicketRecord>> {
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE thread_id = $1 ORDER BY id DESC LIMIT 1");
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, TicketRecord>(&sql)
            .bind(thread_id)
            .fetch_optional(pool)
            .await?))
    }

    /// Whether a business message went out in the thread since `since`.
    pub async fn has_outbound_since(&self, thread_id: &str, since: i64) -> Result<bool> {
        let n: i64 = on_reader!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE thread_id = $1 AND direction = 'out' AND created_at >= $2 AND status <> 'not_sent'")
                .bind(thread_id)
                .bind(since)
                .fetch_one(pool)
                .await?
        });
        Ok(n > 0)
    }

    /// Every thread of a contact, the most recently active first.
    pub async fn threads_of_contact(&self, workspace_id: &str, contact_id: &str) -> Result<Vec<ThreadRecord>> {
        let sql = format!(
            "SELECT {THREAD_COLUMNS} FROM threads WHERE workspace_id = $1 AND contact_id = $2 \
             ORDER BY last_message_at DESC, id DESC"
        );
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, ThreadRecord>(&sql)
            .bind(workspace_id)
            .bind(contact_id)
            .fetch_all(pool)
            .await?))
    }

    /// The address the contact last wrote from in a thread (their phone number
    /// on SMS), where a reply goes.
    pub async fn last_inbound_sender(&self, thread_id: &str) -> Result<Option<String>> {
        Ok(on_reader!(self, |pool| {
            sqlx::query_scalar::<_, String>(
                "SELECT sender FROM messages WHERE thread_id = $1 AND direction = 'in' AND sender IS NOT NULL \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(thread_id)
            .fetch_optional(pool)
            .await?
        }))
    }
}

impl Store {
    /// The latest inbound message time of a contact on a channel (`whatsapp`),
    /// across its threads: what the session window runs from.
    pub async fn latest_inbound_at(&self, workspace_id: &str, contact_id: &str, channel: &str) -> Result<Option<i64>> {
        Ok(on_reader!(self, |pool| {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MAX(last_inbound_at) FROM threads WHERE workspace_id = $1 AND contact_id = $2 AND channel = $3",
            )
            .bind(workspace_id)
            .bind(contact_id)
            .bind(channel)
            .fetch_one(pool)
            .await?
        }))
    }
}
