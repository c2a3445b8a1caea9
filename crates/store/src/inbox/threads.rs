//! Thread lists for the inbox views. A thread's current ticket is its newest
//! one (`tickets_thread_latest` serves that lookup); lists
//! are ordered by the last message, newest first, and paged by
//! `(last_message_at, id)`.

use super::search::SearchQuery;
use crate::messages::{TicketRecord, TICKET_COLUMNS};
use crate::{on_reader, on_writer, Result, Store, StoreError};
use recado_core::ids::{new_id, IdKind};

/// Whose tickets a list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OwnerFilter {
    #[default]
    Any,
    /// Tickets nobody owns.
    Nobody,
    User(String),
}

/// Where a page ends: the last thread's `last_message_at` and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadCursor {
    pub last_message_at: i64,
    pub id: String,
}

impl ThreadCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.last_message_at, self.id)
    }

    pub fn decode(s: &str) -> Option<ThreadCursor> {
        let (at, id) = s.split_once('.')?;
        Some(ThreadCursor {
            last_message_at: at.parse().ok()?,
            id: id.to_string(),
        })
    }
}

#[derive(Clone, Debug, Default)]
pub struct ThreadFilter {
    /// `open` or `closed` (the current ticket's status).
    pub status: Option<String>,
    /// `whatsapp`, `sms`, …
    pub channel: Option<String>,
    pub owner: OwnerFilter,
    pub search: Option<SearchQuery>,
    pub after: Option<ThreadCursor>,
    pub limit: i64,
}

/// A thread as the inbox lists it, with its current ticket and contact.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct InboxThread {
    pub id: String,
    pub contact_id: String,
    pub channel: String,
    pub channel_id: String,
    pub account: String,
    pub last_message_at: i64,
    pub last_inbound_at: Option<i64>,
    pub unread: i64,
    pub ticket_id: Option<String>,
    pub ticket_status: Option<String>,
    pub owner_id: Option<String>,
    pub priority: Option<String>,
    /// The contact's properties as stored (JSON), for its name.
    pub contact_properties: Option<String>,
}

/// The last message of a thread, for the list's one-line preview.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ThreadPreview {
    pub thread_id: String,
    pub direction: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
    pub quarantined: bool,
}

/// Thread counts of the built-in views.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct InboxCounts {
    pub open: i64,
    pub closed: i64,
    pub mine: i64,
    pub unassigned: i64,
    pub whatsapp: i64,
    pub sms: i64,
}

/// A change to a thread's current ticket; `owner_id: Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct TicketChange {
    pub status: Option<String>,
    pub owner_id: Option<Option<String>>,
    pub priority: Option<String>,
}

/// A thread with its current ticket: the one no newer ticket of the thread
/// follows. Written as an anti-join, which PostgreSQL runs as one hash join
/// over the tickets and SQLite as one index probe per thread.
const FROM_THREADS: &str = "FROM threads t \
     LEFT JOIN tickets k ON k.thread_id = t.id \
     AND NOT EXISTS (SELECT 1 FROM tickets k2 WHERE k2.thread_id = k.thread_id AND k2.id > k.id)";

/// The filter's conditions with their placeholders: $1 workspace, $2 status,
/// $3 channel, $4 owner mode, $5 owner id, $6 search matcher, $7 phone digits.
fn conditions(kind: crate::BackendKind, filter: &ThreadFilter) -> String {
    let search = if filter.search.is_some() {
        crate::Dialect(kind).thread_search_condition(1, 6, 7)
    } else {
        String::new()
    };
    format!(
        "WHERE t.workspace_id = $1 AND ($2 IS NULL OR k.status = $2) AND ($3 IS NULL OR t.channel = $3) \
         AND ($4 = 'any' OR ($4 = 'none' AND k.owner_id IS NULL) OR ($4 = 'user' AND k.owner_id = $5)) {search}"
    )
}

fn owner_params(owner: &OwnerFilter) -> (&'static str, Option<&str>) {
    match owner {
        OwnerFilter::Any => ("any", None),
        OwnerFilter::Nobody => ("none", None),
        OwnerFilter::User(id) => ("user", Some(id.as_str())),
    }
}

/// Binds $1–$7 in the order [`conditions`] names them.
macro_rules! bind_filter {
    ($query:expr, $kind:expr, $ws:expr, $filter:expr) => {{
        let (mode, owner) = owner_params(&$filter.owner);
        let matcher = $filter.search.as_ref().map(|s| s.matcher($kind));
        let digits = $filter.search.as_ref().and_then(|s| s.phone_digits.clone());
        $query
            .bind($ws)
            .bind($filter.status.clone())
            .bind($filter.channel.clone())
            .bind(mode)
            .bind(owner.map(str::to_string))
            .bind(matcher)
            .bind(digits)
    }};
}

impl Store {
    /// One page of threads matching `filter`, newest activity first.
    pub async fn inbox_threads(&self, workspace_id: &str, filter: &ThreadFilter) -> Result<Vec<InboxThread>> {
        let kind = self.kind();
        let sql = format!(
            "SELECT t.id, t.contact_id, t.channel, t.channel_id, t.account, t.last_message_at, t.last_inbound_at, t.unread, \
             k.id AS ticket_id, k.status AS ticket_status, k.owner_id, k.priority, \
             (SELECT c.properties FROM contacts c WHERE c.id = t.contact_id) AS contact_properties \
             {FROM_THREADS} {} \
             AND ($8 IS NULL OR t.last_message_at < $8 OR (t.last_message_at = $8 AND t.id < $9)) \
             ORDER BY t.last_message_at DESC, t.id DESC LIMIT $10",
            conditions(kind, filter)
        );
        let (after_at, after_id) = match &filter.after {
            Some(c) => (Some(c.last_message_at), Some(c.id.clone())),
            None => (None, None),
        };
        Ok(on_reader!(self, |pool| {
            bind_filter!(sqlx::query_as::<_, InboxThread>(&sql), kind, workspace_id, filter)
                .bind(after_at)
                .bind(after_id)
                .bind(filter.limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// How many threads match `filter` (its cursor and limit are ignored).
    pub async fn count_inbox_threads(&self, workspace_id: &str, filter: &ThreadFilter) -> Result<i64> {
        let kind = self.kind();
        let sql = format!("SELECT COUNT(*) {FROM_THREADS} {}", conditions(kind, filter));
        Ok(on_reader!(self, |pool| {
            bind_filter!(sqlx::query_scalar::<_, i64>(&sql), kind, workspace_id, filter)
                .fetch_one(pool)
                .await?
        }))
    }

    /// The counts of the built-in views in one pass over the workspace's threads.
    pub async fn inbox_counts(&self, workspace_id: &str, user_id: &str) -> Result<InboxCounts> {
        let sql = format!(
            "SELECT \
             COALESCE(SUM(CASE WHEN k.status = 'open' THEN 1 ELSE 0 END), 0) AS open, \
             COALESCE(SUM(CASE WHEN k.status = 'closed' THEN 1 ELSE 0 END), 0) AS closed, \
             COALESCE(SUM(CASE WHEN k.status = 'open' AND k.owner_id = $2 THEN 1 ELSE 0 END), 0) AS mine, \
             COALESCE(SUM(CASE WHEN k.status = 'open' AND k.owner_id IS NULL THEN 1 ELSE 0 END), 0) AS unassigned, \
             COALESCE(SUM(CASE WHEN k.status = 'open' AND t.channel = 'whatsapp' THEN 1 ELSE 0 END), 0) AS whatsapp, \
             COALESCE(SUM(CASE WHEN k.status = 'open' AND t.channel = 'sms' THEN 1 ELSE 0 END), 0) AS sms \
             {FROM_THREADS} WHERE t.workspace_id = $1"
        );
        let sql = self
            .dialect()
            .integer_sums(sql, &["open", "closed", "mine", "unassigned", "whatsapp", "sms"]);
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, InboxCounts>(&sql)
                .bind(workspace_id)
                .bind(user_id)
                .fetch_one(pool)
                .await?
        }))
    }

    /// The newest message of each of these threads.
    pub async fn thread_previews(&self, thread_ids: &[String]) -> Result<Vec<ThreadPreview>> {
        if thread_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (1..=thread_ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT thread_id, direction, type, text, quarantined FROM messages WHERE id IN \
             (SELECT MAX(id) FROM messages WHERE thread_id IN ({placeholders}) GROUP BY thread_id)"
        );
        Ok(on_reader!(self, |pool| {
            let mut query = sqlx::query_as::<_, ThreadPreview>(&sql);
            for id in thread_ids {
                query = query.bind(id);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// An agent read the thread: its unread count goes back to zero.
    pub async fn mark_thread_read(&self, workspace_id: &str, thread_id: &str) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("UPDATE threads SET unread = 0 WHERE workspace_id = $1 AND id = $2 AND unread <> 0")
                .bind(workspace_id)
                .bind(thread_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Applies `change` to the thread's current ticket and returns it. A
    /// thread without a ticket (one a business message started) gets one.
    /// Closing sets `closed_at`; reopening clears it.
    pub async fn change_ticket(
        &self,
        workspace_id: &str,
        thread_id: &str,
        change: &TicketChange,
        now: i64,
    ) -> Result<TicketRecord> {
        let current_sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE workspace_id = $1 AND thread_id = $2 ORDER BY id DESC LIMIT 1"
        );
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let exists: Option<String> =
                sqlx::query_scalar("SELECT id FROM threads WHERE workspace_id = $1 AND id = $2")
                    .bind(workspace_id)
                    .bind(thread_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            let current: Option<TicketRecord> = sqlx::query_as(&current_sql)
                .bind(workspace_id)
                .bind(thread_id)
                .fetch_optional(&mut *tx)
                .await?;
            let mut ticket = current.clone().unwrap_or_else(|| TicketRecord {
                id: new_id(IdKind::Ticket),
                workspace_id: workspace_id.to_string(),
                thread_id: thread_id.to_string(),
                status: "open".into(),
                owner_id: None,
                priority: "normal".into(),
                created_at: now,
                updated_at: now,
                closed_at: None,
            });
            if let Some(status) = &change.status {
                if *status != ticket.status {
                    ticket.closed_at = (status == "closed").then_some(now);
                }
                ticket.status = status.clone();
            }
            if let Some(owner) = &change.owner_id {
                ticket.owner_id = owner.clone();
            }
            if let Some(priority) = &change.priority {
                ticket.priority = priority.clone();
            }
            ticket.updated_at = now;
            let sql = if current.is_some() {
                "UPDATE tickets SET status = $4, owner_id = $5, priority = $6, updated_at = $7, closed_at = $8, created_at = $9 \
                 WHERE id = $1 AND workspace_id = $2 AND thread_id = $3"
            } else {
                "INSERT INTO tickets (id, workspace_id, thread_id, status, owner_id, priority, updated_at, closed_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            };
            sqlx::query(sql)
                .bind(&ticket.id)
                .bind(&ticket.workspace_id)
                .bind(&ticket.thread_id)
                .bind(&ticket.status)
                .bind(&ticket.owner_id)
                .bind(&ticket.priority)
                .bind(ticket.updated_at)
                .bind(ticket.closed_at)
                .bind(ticket.created_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(ticket)
        })
    }

    /// The delivery events of many messages at once, oldest first.
    pub async fn events_of_messages(&self, message_ids: &[String]) -> Result<Vec<crate::messages::MessageEvent>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (1..=message_ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT id, message_id, type, at, details FROM message_events WHERE message_id IN ({placeholders}) ORDER BY id"
        );
        Ok(on_reader!(self, |pool| {
            let mut query = sqlx::query_as::<_, crate::messages::MessageEvent>(&sql);
            for id in message_ids {
                query = query.bind(id);
            }
            query.fetch_all(pool).await?
        }))
    }
}
