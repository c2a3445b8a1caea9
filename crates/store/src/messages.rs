//! Messages (both directions), their delivery events, and the threads and
//! tickets inbound messages create.

use crate::{emit_in_tx, on_reader, on_writer, Result, Store, StoreError};
use recado_core::consent::Channel;
use recado_core::delivery::{Direction, MessageStatus, OutboundStatus};
use recado_core::ids::{new_id, ContactId, IdKind, MessageId, ThreadId};
use recado_core::whatsapp::SessionWindow;

mod threads;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct MessageRecord {
    pub id: MessageId,
    pub workspace_id: String,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub channel_id: String,
    pub thread_id: Option<ThreadId>,
    pub contact_id: Option<ContactId>,
    #[sqlx(try_from = "String")]
    pub direction: Direction,
    #[sqlx(try_from = "String")]
    pub status: MessageStatus,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
    /// Type-specific content as JSON (media, location, template parameters…).
    pub content: String,
    pub template: Option<String>,
    pub campaign: Option<String>,
    /// The campaign record the message counts in (outbound messages), set
    /// from `campaign` when the message is written.
    pub campaign_id: Option<String>,
    /// The source a campaign gets when this message is its first; not a
    /// column of the message.
    #[sqlx(skip)]
    pub campaign_source: Option<recado_core::campaigns::Source>,
    pub sender: Option<String>,
    pub recipient: Option<String>,
    pub provider_message_id: Option<String>,
    pub segments: Option<i64>,
    pub encoding: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub quarantined: bool,
    pub counted: bool,
    pub send_attempted_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl MessageRecord {
    /// A message a contact sent on `channel`, `received` now, with a fresh id
    /// and no delivery fields; callers fill what the provider told with
    /// struct update syntax.
    pub fn received(
        workspace_id: &str,
        channel: Channel,
        channel_id: &str,
        contact_id: ContactId,
        now: i64,
    ) -> MessageRecord {
        MessageRecord {
            direction: Direction::In,
            status: MessageStatus::Received,
            contact_id: Some(contact_id),
            ..MessageRecord::queued_outbound(workspace_id, channel, channel_id, None, now)
        }
    }

    /// A new outbound message of `channel`, queued, with a fresh id and every delivery field still empty; callers
    /// fill what they know with struct update syntax.
    pub fn queued_outbound(
        workspace_id: &str,
        channel: Channel,
        channel_id: &str,
        contact_id: Option<String>,
        now: i64,
    ) -> MessageRecord {
        MessageRecord {
            id: MessageId::generate(),
            workspace_id: workspace_id.to_string(),
            channel,
            channel_id: channel_id.to_string(),
            thread_id: None,
            contact_id: contact_id.map(ContactId::from),
            direction: Direction::Out,
            status: OutboundStatus::Queued.into(),
            kind: "text".into(),
            text: None,
            content: "{}".into(),
            template: None,
            campaign: None,
            campaign_id: None,
            campaign_source: None,
            sender: None,
            recipient: None,
            provider_message_id: None,
            segments: None,
            encoding: None,
            error_code: None,
            error_message: None,
            quarantined: false,
            counted: false,
            send_attempted_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

pub const MESSAGE_COLUMNS: &str = "id, workspace_id, channel, channel_id, thread_id, contact_id, direction, status, type, text, content, \
     template, campaign, campaign_id, sender, recipient, provider_message_id, segments, encoding, error_code, error_message, quarantined, counted, \
     send_attempted_at, created_at, updated_at";

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct MessageEvent {
    pub id: String,
    pub message_id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub at: i64,
    pub details: String,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ThreadRecord {
    pub id: ThreadId,
    pub workspace_id: String,
    pub contact_id: ContactId,
    pub channel: String,
    pub channel_id: String,
    pub account: String,
    pub last_message_at: i64,
    pub last_inbound_at: Option<i64>,
    pub session_started_at: Option<i64>,
    pub unread: i64,
    pub created_at: i64,
}

pub const THREAD_COLUMNS: &str =
    "id, workspace_id, contact_id, channel, channel_id, account, last_message_at, last_inbound_at, session_started_at, unread, created_at";

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct TicketRecord {
    pub id: String,
    pub workspace_id: String,
    pub thread_id: String,
    pub status: String,
    pub owner_id: Option<String>,
    pub priority: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
}

pub const TICKET_COLUMNS: &str =
    "id, workspace_id, thread_id, status, owner_id, priority, created_at, updated_at, closed_at";

/// A timeline entry written with a message.
#[derive(Clone, Debug)]
pub struct TimelineNote<'a> {
    pub kind: &'a str,
    pub details: serde_json::Value,
}

/// An inbound message to record.
#[derive(Clone, Debug)]
pub struct InboundWrite<'a> {
    pub message: &'a MessageRecord,
    /// The hub-side account the message arrived at (phone number id, our number).
    pub account: &'a str,
    pub at: i64,
    pub timeline: TimelineNote<'a>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InboundOutcome {
    pub message_id: String,
    pub thread_id: String,
    pub ticket_id: Option<String>,
    /// The provider delivered this message before; nothing was written.
    pub duplicate: bool,
}

/// A counted WhatsApp conversation to record with an outbound message.
#[derive(Clone, Debug)]
pub struct ConversationWrite<'a> {
    pub recipient: &'a str,
    pub business_initiated: bool,
}

/// Limits checked in the same transaction that records the conversation, so
/// concurrent sends cannot overrun them.
#[derive(Clone, Debug)]
pub struct QuotaCheck {
    pub period_start: i64,
    pub period_end: i64,
    pub limit: u64,
    /// Messaging-tier cap of unique business-initiated recipients per rolling
    /// 24 hours for the channel, if any.
    pub tier_cap: Option<u64>,
}

/// Why a counted conversation was refused (decided by
/// `recado_core::whatsapp::admit`).
pub use recado_core::whatsapp::AdmissionRefusal as OutboundRefusal;

/// A change to an existing message's delivery state.
#[derive(Clone, Debug, Default)]
pub struct DeliveryUpdate {
    pub status: Option<OutboundStatus>,
    pub provider_message_id: Option<String>,
    pub error_code: Option<Option<String>>,
    pub error_message: Option<Option<String>>,
    pub events: Vec<(String, serde_json::Value)>,
    pub timeline: Vec<(String, serde_json::Value)>,
}

macro_rules! insert_message {
    ($tx:expr, $m:expr) => {{
        let m: &MessageRecord = $m;
        sqlx::query(
            "INSERT INTO messages (id, workspace_id, channel, channel_id, thread_id, contact_id, direction, status, type, text, content, \
             template, campaign, campaign_id, sender, recipient, provider_message_id, segments, encoding, error_code, error_message, quarantined, counted, \
             send_attempted_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)",
        )
        .bind(&m.id)
        .bind(&m.workspace_id)
        .bind(m.channel.as_str())
        .bind(&m.channel_id)
        .bind(&m.thread_id)
        .bind(&m.contact_id)
        .bind(m.direction.as_str())
        .bind(m.status.as_str())
        .bind(&m.kind)
        .bind(&m.text)
        .bind(&m.content)
        .bind(&m.template)
        .bind(&m.campaign)
        .bind(&m.campaign_id)
        .bind(&m.sender)
        .bind(&m.recipient)
        .bind(&m.provider_message_id)
        .bind(m.segments)
        .bind(&m.encoding)
        .bind(&m.error_code)
        .bind(&m.error_message)
        .bind(m.quarantined)
        .bind(m.counted)
        .bind(m.send_attempted_at)
        .bind(m.created_at)
        .bind(m.updated_at)
        .execute($tx)
        .await
    }};
}

macro_rules! insert_event {
    ($tx:expr, $ws:expr, $message_id:expr, $kind:expr, $at:expr, $details:expr) => {
        sqlx::query("INSERT INTO message_events (id, workspace_id, message_id, type, at, details) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(new_id(IdKind::Event))
            .bind($ws)
            .bind($message_id)
            .bind($kind)
            .bind($at)
            .bind($details.to_string())
            .execute($tx)
            .await
    };
}

macro_rules! insert_timeline {
    ($tx:expr, $m:expr, $kind:expr, $at:expr, $details:expr) => {{
        let m: &MessageRecord = $m;
        let kind: &str = $kind;
        let at: i64 = $at;
        match &m.contact_id {
            Some(contact_id) => {
                let conn = $tx;
                let event_id = new_id(IdKind::Event);
                let inserted = sqlx::query(
                    "INSERT INTO timeline_events (id, workspace_id, contact_id, type, at, message_id, campaign, sender, details) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&event_id)
                .bind(&m.workspace_id)
                .bind(contact_id)
                .bind(kind)
                .bind(at)
                .bind(&m.id)
                .bind(&m.campaign)
                .bind(&m.sender)
                .bind($details.to_string())
                .execute(&mut *conn)
                .await;
                match inserted {
                    Ok(_) => $crate::workflows::on_timeline_event!(
                        &mut *conn,
                        &m.workspace_id,
                        contact_id.as_str(),
                        kind,
                        at,
                        &event_id,
                        Some(m.id.as_str())
                    ),
                    Err(e) => Err(e),
                }
            }
            None => Ok(()),
        }
    }};
}

pub(crate) use {insert_event, insert_message, insert_timeline};

impl Store {
    /// Records an inbound message: its thread (created or extended, with the
    /// session it opens), an open ticket when the thread has none, the message,
    /// its `received` event and a timeline entry. A message the provider
    /// delivered before is reported as a duplicate and writes nothing.
    pub async fn record_inbound(&self, w: &InboundWrite<'_>) -> Result<InboundOutcome> {
        let m = w.message;
        let contact_id = m
            .contact_id
            .as_deref()
            .ok_or_else(|| StoreError::Corrupt("inbound message without contact".into()))?;
        let existing_sql =
            format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel_id = $1 AND provider_message_id = $2");
        let thread_sql = format!("SELECT {THREAD_COLUMNS} FROM threads WHERE workspace_id = $1 AND contact_id = $2 AND channel_id = $3 AND account = $4");
        let open_ticket_sql =
            "SELECT id FROM tickets WHERE thread_id = $1 AND status = 'open' ORDER BY id DESC LIMIT 1";
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            if let Some(provider_id) = &m.provider_message_id {
                let existing: Option<MessageRecord> = sqlx::query_as(&existing_sql)
                    .bind(&m.channel_id)
                    .bind(provider_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(e) = existing {
                    return Ok(InboundOutcome {
                        message_id: e.id.into_string(),
                        thread_id: e.thread_id.map(ThreadId::into_string).unwrap_or_default(),
                        ticket_id: None,
                        duplicate: true,
                    });
                }
            }
            let thread: Option<ThreadRecord> = sqlx::query_as(&thread_sql)
                .bind(&m.workspace_id)
                .bind(contact_id)
                .bind(&m.channel_id)
                .bind(w.account)
                .fetch_optional(&mut *tx)
                .await?;
            let thread_id = match thread {
                None => {
                    let id = new_id(IdKind::Thread);
                    sqlx::query(
                        "INSERT INTO threads (id, workspace_id, contact_id, channel, channel_id, account, last_message_at, last_inbound_at, \
                         session_started_at, unread, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, 1, $7)",
                    )
                    .bind(&id)
                    .bind(&m.workspace_id)
                    .bind(contact_id)
                    .bind(m.channel.as_str())
                    .bind(&m.channel_id)
                    .bind(w.account)
                    .bind(w.at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::unique_as_conflict(e, "thread created concurrently"))?;
                    id
                }
                Some(t) => {
                    // A message inside the open session extends it; one after it
                    // starts a new session.
                    let open = SessionWindow {
                        last_inbound_at_ms: t.last_inbound_at,
                    }
                    .is_open(w.at);
                    let session_started_at = if open { t.session_started_at } else { Some(w.at) };
                    sqlx::query(
                        "UPDATE threads SET last_message_at = $1, last_inbound_at = $2, session_started_at = $3, unread = unread + 1 WHERE id = $4",
                    )
                    .bind(t.last_message_at.max(w.at))
                    .bind(t.last_inbound_at.unwrap_or(w.at).max(w.at))
                    .bind(session_started_at)
                    .bind(&t.id)
                    .execute(&mut *tx)
                    .await?;
                    t.id.into_string()
                }
            };
            let open_ticket: Option<String> = sqlx::query_scalar(open_ticket_sql)
                .bind(&thread_id)
                .fetch_optional(&mut *tx)
                .await?;
            let ticket_id = match open_ticket {
                Some(id) => id,
                None => {
                    let id = new_id(IdKind::Ticket);
                    sqlx::query(
                        "INSERT INTO tickets (id, workspace_id, thread_id, status, owner_id, priority, created_at, updated_at) \
                         VALUES ($1, $2, $3, 'open', NULL, 'normal', $4, $4)",
                    )
                    .bind(&id)
                    .bind(&m.workspace_id)
                    .bind(&thread_id)
                    .bind(w.at)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
            };
            let mut record = m.clone();
            record.thread_id = Some(ThreadId::from(thread_id.clone()));
            insert_message!(&mut *tx, &record)
                .map_err(|e| StoreError::unique_as_conflict(e, "message stored concurrently"))?;
            insert_event!(
                &mut *tx,
                &m.workspace_id,
                &m.id,
                "received",
                w.at,
                serde_json::json!({})
            )?;
            insert_timeline!(&mut *tx, &record, w.timeline.kind, w.at, &w.timeline.details)?;
            let event = serde_json::json!({
                "message_id": record.id, "contact_id": record.contact_id, "channel": record.channel, "channel_id": record.channel_id,
                "thread_id": record.thread_id, "type": record.kind, "quarantined": record.quarantined,
                "text": if record.quarantined { None } else { record.text.clone() }, "from": record.sender,
                "at": recado_core::clock::to_rfc3339(w.at),
            });
            emit_in_tx!(tx, &record.workspace_id, "message.received", &event, w.at);
            // A reply counts for the campaign message it answers.
            let mut rest = crate::WriteTx::wrap(tx, self.dialect());
            rest.tally(&[crate::campaigns::tally::CampaignEvent {
                message: &record,
                kind: w.timeline.kind,
                at: w.at,
                details: &w.timeline.details,
            }])
            .await?;
            rest.commit().await?;
            Ok(InboundOutcome {
                message_id: m.id.to_string(),
                thread_id,
                ticket_id: Some(ticket_id),
                duplicate: false,
            })
        })
    }

    pub async fn message(&self, workspace_id: &str, id: &str) -> Result<MessageRecord> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE workspace_id = $1 AND id = $2");
        on_reader!(self, |pool| sqlx::query_as::<_, MessageRecord>(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    /// A workspace's messages, newest first, optionally of one status and
    /// channel (`?status=uncertain` lists the sends whose outcome is unknown).
    pub async fn messages(
        &self,
        workspace_id: &str,
        status: Option<MessageStatus>,
        channel: Option<Channel>,
        before_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE workspace_id = $1 AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR channel = $3) AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
        );
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, MessageRecord>(&sql)
            .bind(workspace_id)
            .bind(status.map(MessageStatus::as_str))
            .bind(channel.map(Channel::as_str))
            .bind(before_id)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    pub async fn message_by_provider_id(&self, channel_id: &str, provider_id: &str) -> Result<Option<MessageRecord>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel_id = $1 AND provider_message_id = $2");
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, MessageRecord>(&sql)
            .bind(channel_id)
            .bind(provider_id)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn message_events(&self, message_id: &str) -> Result<Vec<MessageEvent>> {
        let sql = "SELECT id, message_id, type, at, details FROM message_events WHERE message_id = $1 ORDER BY id";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, MessageEvent>(sql)
            .bind(message_id)
            .fetch_all(pool)
            .await?))
    }

    /// Messages of a thread, oldest first.
    pub async fn thread_messages(&self, workspace_id: &str, thread_id: &str, limit: i64) -> Result<Vec<MessageRecord>> {
        let sql = format!(
            "SELECT * FROM (SELECT {MESSAGE_COLUMNS} FROM messages WHERE workspace_id = $1 AND thread_id = $2 ORDER BY id DESC LIMIT $3) recent ORDER BY id"
        );
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, MessageRecord>(&sql)
            .bind(workspace_id)
            .bind(thread_id)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Marks that a provider request is about to be made for `id`; a send
    /// found with this mark after a crash is uncertain, never repeated.
    pub async fn mark_send_attempted(&self, id: &str, now: i64) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("UPDATE messages SET send_attempted_at = $1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Reads a message, lets `decide` compute the update from its current
    /// state and writes it with its events, in one transaction.
    pub async fn update_delivery(
        &self,
        id: &str,
        now: i64,
        decide: impl FnOnce(&MessageRecord) -> Option<DeliveryUpdate>,
    ) -> Result<Option<MessageRecord>> {
        let mut tx = self.write().await?;
        let updated = tx.update_delivery(id, now, decide).await?;
        tx.commit().await?;
        Ok(updated)
    }
}

impl crate::WriteTx {
    /// [`Store::update_delivery`] inside an open transaction: the one-message
    /// case of [`crate::WriteTx::update_deliveries`].
    pub async fn update_delivery(
        &mut self,
        id: &str,
        now: i64,
        decide: impl FnOnce(&MessageRecord) -> Option<DeliveryUpdate>,
    ) -> Result<Option<MessageRecord>> {
        let mut decide = Some(decide);
        let mut found = false;
        let changed = self
            .update_deliveries(&[id], now, |current| {
                found = true;
                decide.take().and_then(|d| d(current))
            })
            .await?;
        if !found {
            return Err(StoreError::NotFound);
        }
        Ok(changed.into_iter().next().map(|c| c.message))
    }
}

impl Store {
    /// Undoes `mark_send_attempted` when the provider certainly did not get
    /// the request (connection refused, told to retry), so a retry may send.
    pub async fn clear_send_attempted(&self, id: &str) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("UPDATE messages SET send_attempted_at = NULL WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
