//! Queued sends written many rows per statement: the workflow engine (and
//! any bulk sender) writes the messages of a whole batch — their threads,
//! first events, short links, send jobs, calls with their timers and
//! timeline entries — in a handful of statements instead of a handful per
//! message. The rows are exactly those [`WriteTx::file_outbound`],
//! [`WriteTx::insert_message`], [`WriteTx::insert_call`],
//! [`WriteTx::arm_timers`], [`WriteTx::enqueue`] and [`WriteTx::timeline`]
//! write one by one.

use crate::calls::CallRecord;
use crate::campaigns::tally::CampaignEvent;
use crate::links::ShortLink;
use crate::messages::MessageRecord;
use crate::timers::Timer;
use crate::write::on_tx;
use crate::{Result, WriteTx};
use recado_core::ids::{new_id, IdKind, ThreadId};
use recado_core::jobs::Task;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Most rows one multi-row statement carries: 26 columns of a message times
/// this stays below SQLite's 32,766 bound parameters.
const ROWS: usize = 500;

/// A timeline entry about a message, written with others of its batch.
pub struct TimelineEntry<'a> {
    pub message: &'a MessageRecord,
    pub kind: &'a str,
    pub at: i64,
    pub details: &'a serde_json::Value,
}

/// A send that passed every rule, to be queued with the rest of its batch.
#[derive(Clone, Debug)]
pub struct OutboundRow {
    pub message: MessageRecord,
    /// The sender account the message is filed under (its thread).
    pub account: String,
    pub links: Vec<ShortLink>,
    pub task: Task,
    pub max_attempts: i64,
    pub timeline_kind: &'static str,
    pub details: serde_json::Value,
    /// A voice message's call, written beside it, with its timer.
    pub call: Option<(CallRecord, Option<Timer>)>,
}

impl WriteTx {
    /// Writes queued sends: threads found or created, messages with their
    /// first event, short links, send jobs due at `now`, timeline entries
    /// (with their workflow hooks). Sets each message's `thread_id`.
    pub async fn queue_outbound_many(&mut self, rows: &mut [OutboundRow], now: i64) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.file_outbound_many(rows).await?;
        self.file_in_campaigns(rows.iter_mut().map(|r| &mut r.message).collect())
            .await?;
        for chunk in rows.chunks(ROWS) {
            self.insert_messages(chunk).await?;
        }
        let messages: Vec<&MessageRecord> = rows.iter().map(|r| &r.message).collect();
        self.count_recipients(&messages).await?;
        let links: Vec<ShortLink> = rows.iter().flat_map(|r| r.links.iter().cloned()).collect();
        self.insert_short_links(&links).await?;
        for chunk in rows.chunks(ROWS) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO jobs (id, workspace_id, kind, payload, status, run_at, attempts, max_attempts, created_at, updated_at) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(new_id(IdKind::Job))
                        .push_bind(&r.message.workspace_id)
                        .push_bind(r.task.kind().as_str())
                        .push_bind(r.task.payload().to_string())
                        .push_bind("queued")
                        .push_bind(now)
                        .push_bind(0i64)
                        .push_bind(r.max_attempts)
                        .push_bind(now)
                        .push_bind(now);
                });
                q.build().execute(&mut *conn).await?;
            });
        }
        let calls: Vec<&CallRecord> = rows.iter().filter_map(|r| r.call.as_ref().map(|(c, _)| c)).collect();
        self.insert_calls(&calls).await?;
        let timers: Vec<&Timer> = rows
            .iter()
            .filter_map(|r| r.call.as_ref().and_then(|(_, t)| t.as_ref()))
            .collect();
        self.arm_timers(&timers, now).await?;
        self.timeline_many(rows).await
    }

    /// Finds or creates the thread of each message, a few statements per
    /// (workspace, channel, account).
    async fn file_outbound_many(&mut self, rows: &mut [OutboundRow]) -> Result<()> {
        let mut groups: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            if r.message.contact_id.is_some() {
                let key = (
                    r.message.workspace_id.clone(),
                    r.message.channel_id.clone(),
                    r.account.clone(),
                );
                groups.entry(key).or_default().push(i);
            }
        }
        for ((workspace_id, channel_id, account), indexes) in groups {
            let contacts: Vec<String> = {
                let mut seen = HashSet::new();
                indexes
                    .iter()
                    .filter_map(|&i| rows[i].message.contact_id.as_deref().map(str::to_string))
                    .filter(|c| seen.insert(c.clone()))
                    .collect()
            };
            let mut found: HashMap<String, (String, i64)> = HashMap::new();
            for chunk in contacts.chunks(ROWS) {
                let placeholders = (4..chunk.len() + 4)
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "SELECT contact_id, id, last_message_at FROM threads WHERE workspace_id = $1 AND channel_id = $2 \
                     AND account = $3 AND contact_id IN ({placeholders})"
                );
                let existing: Vec<(String, String, i64)> = on_tx!(self, |conn| {
                    let mut q = sqlx::query_as(&sql)
                        .bind(&workspace_id)
                        .bind(&channel_id)
                        .bind(&account);
                    for c in chunk {
                        q = q.bind(c);
                    }
                    q.fetch_all(&mut *conn).await?
                });
                for (contact, id, last) in existing {
                    found.insert(contact, (id, last));
                }
            }
            // The latest message of each contact in this batch.
            let mut latest: HashMap<&str, i64> = HashMap::new();
            for &i in &indexes {
                let m = &rows[i].message;
                let at = latest
                    .entry(m.contact_id.as_deref().unwrap_or_default())
                    .or_insert(m.created_at);
                *at = (*at).max(m.created_at);
            }
            let mut create: Vec<(String, String, i64)> = Vec::new();
            let mut bump: BTreeMap<i64, Vec<String>> = BTreeMap::new();
            for contact in &contacts {
                let at = latest[contact.as_str()];
                match found.get(contact) {
                    Some((id, last)) if *last < at => bump.entry(at).or_default().push(id.clone()),
                    Some(_) => {}
                    None => {
                        let id = new_id(IdKind::Thread);
                        found.insert(contact.clone(), (id.clone(), at));
                        create.push((id, contact.clone(), at));
                    }
                }
            }
            let channel = rows[indexes[0]].message.channel.as_str();
            for chunk in create.chunks(ROWS) {
                on_tx!(self, |conn| {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO threads (id, workspace_id, contact_id, channel, channel_id, account, last_message_at, \
                         last_inbound_at, session_started_at, unread, created_at) ",
                    );
                    q.push_values(chunk, |mut b, (id, contact, at)| {
                        b.push_bind(id)
                            .push_bind(&workspace_id)
                            .push_bind(contact)
                            .push_bind(channel)
                            .push_bind(&channel_id)
                            .push_bind(&account)
                            .push_bind(*at)
                            .push_bind(None::<i64>)
                            .push_bind(None::<i64>)
                            .push_bind(0i64)
                            .push_bind(*at);
                    });
                    q.build()
                        .execute(&mut *conn)
                        .await
                        .map_err(|e| crate::StoreError::unique_as_conflict(e, "thread created concurrently"))?;
                });
            }
            for (at, ids) in bump {
                for chunk in ids.chunks(ROWS) {
                    let placeholders = (2..chunk.len() + 2)
                        .map(|i| format!("${i}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "UPDATE threads SET last_message_at = $1 WHERE id IN ({placeholders}) AND last_message_at < $1"
                    );
                    on_tx!(self, |conn| {
                        let mut q = sqlx::query(&sql).bind(at);
                        for id in chunk {
                            q = q.bind(id);
                        }
                        q.execute(&mut *conn).await?;
                    });
                }
            }
            for &i in &indexes {
                let contact = rows[i].message.contact_id.as_deref().unwrap_or_default().to_string();
                rows[i].message.thread_id = Some(ThreadId::from(found[&contact].0.clone()));
            }
        }
        Ok(())
    }

    async fn insert_messages(&mut self, chunk: &[OutboundRow]) -> Result<()> {
        on_tx!(self, |conn| {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO messages (id, workspace_id, channel, channel_id, thread_id, contact_id, direction, status, type, text, \
                 content, template, campaign, campaign_id, sender, recipient, provider_message_id, segments, encoding, error_code, error_message, \
                 quarantined, counted, send_attempted_at, created_at, updated_at) ",
            );
            q.push_values(chunk, |mut b, r| {
                let m = &r.message;
                b.push_bind(&m.id)
                    .push_bind(&m.workspace_id)
                    .push_bind(m.channel.as_str())
                    .push_bind(&m.channel_id)
                    .push_bind(&m.thread_id)
                    .push_bind(&m.contact_id)
                    .push_bind(m.direction.as_str())
                    .push_bind(m.status.as_str())
                    .push_bind(&m.kind)
                    .push_bind(&m.text)
                    .push_bind(&m.content)
                    .push_bind(&m.template)
                    .push_bind(&m.campaign)
                    .push_bind(&m.campaign_id)
                    .push_bind(&m.sender)
                    .push_bind(&m.recipient)
                    .push_bind(&m.provider_message_id)
                    .push_bind(m.segments)
                    .push_bind(&m.encoding)
                    .push_bind(&m.error_code)
                    .push_bind(&m.error_message)
                    .push_bind(m.quarantined)
                    .push_bind(m.counted)
                    .push_bind(m.send_attempted_at)
                    .push_bind(m.created_at)
                    .push_bind(m.updated_at);
            });
            q.build().execute(&mut *conn).await?;
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO message_events (id, workspace_id, message_id, type, at, details) ",
            );
            q.push_values(chunk, |mut b, r| {
                let m = &r.message;
                b.push_bind(new_id(IdKind::Event))
                    .push_bind(&m.workspace_id)
                    .push_bind(&m.id)
                    .push_bind(m.status.as_str())
                    .push_bind(m.created_at)
                    .push_bind("{}");
            });
            q.build().execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// The timeline entries of the queued messages (see [`WriteTx::timeline_entries`]).
    async fn timeline_many(&mut self, rows: &[OutboundRow]) -> Result<()> {
        let entries: Vec<TimelineEntry<'_>> = rows
            .iter()
            .map(|r| TimelineEntry {
                message: &r.message,
                kind: r.timeline_kind,
                at: r.message.created_at,
                details: &r.details,
            })
            .collect();
        self.timeline_entries(&entries).await
    }

    /// Timeline entries many per statement, then what recording them means
    /// for workflows (as `insert_timeline!` does one by one): runs awaiting
    /// the kind wake, and event triggers on it get their jobs. Entries of
    /// messages without a contact are skipped.
    pub async fn timeline_entries(&mut self, entries: &[TimelineEntry<'_>]) -> Result<()> {
        let events: Vec<CampaignEvent<'_>> = entries
            .iter()
            .map(|e| CampaignEvent {
                message: e.message,
                kind: e.kind,
                at: e.at,
                details: e.details,
            })
            .collect();
        self.tally(&events).await?;
        let with_contact: Vec<(&TimelineEntry<'_>, String)> = entries
            .iter()
            .filter(|e| e.message.contact_id.is_some())
            .map(|e| (e, new_id(IdKind::Event)))
            .collect();
        for chunk in with_contact.chunks(ROWS) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO timeline_events (id, workspace_id, contact_id, type, at, message_id, campaign, sender, details) ",
                );
                q.push_values(chunk, |mut b, (e, event_id)| {
                    let m = e.message;
                    b.push_bind(event_id)
                        .push_bind(&m.workspace_id)
                        .push_bind(&m.contact_id)
                        .push_bind(e.kind)
                        .push_bind(e.at)
                        .push_bind(&m.id)
                        .push_bind(&m.campaign)
                        .push_bind(&m.sender)
                        .push_bind(e.details.to_string());
                });
                q.build().execute(&mut *conn).await?;
            });
        }
        let mut kinds: BTreeMap<(&str, &str), Vec<&(&TimelineEntry<'_>, String)>> = BTreeMap::new();
        for entry in &with_contact {
            kinds
                .entry((entry.0.message.workspace_id.as_str(), entry.0.kind))
                .or_default()
                .push(entry);
        }
        for ((workspace_id, kind), entries) in kinds {
            let pattern = format!("%,{kind},%");
            for chunk in entries.chunks(ROWS) {
                let placeholders = (3..chunk.len() + 3)
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "UPDATE workflow_runs SET wake_at = $1 WHERE status = 'waiting' AND awaits LIKE $2 \
                     AND (wake_at IS NULL OR wake_at > $1) AND contact_id IN ({placeholders})"
                );
                let at = chunk.iter().map(|(e, _)| e.at).min().unwrap_or_default();
                on_tx!(self, |conn| {
                    let mut q = sqlx::query(&sql).bind(at).bind(&pattern);
                    for (e, _) in chunk {
                        q = q.bind(&e.message.contact_id);
                    }
                    q.execute(&mut *conn).await?;
                });
            }
            let triggered: i64 = on_tx!(self, |conn| sqlx::query_scalar(
                "SELECT COUNT(*) FROM workflow_event_triggers WHERE workspace_id = $1 AND event = $2"
            )
            .bind(workspace_id)
            .bind(kind)
            .fetch_one(&mut *conn)
            .await?);
            if triggered > 0 {
                for (e, event_id) in entries {
                    let m = e.message;
                    on_tx!(self, |conn| crate::workflows::on_timeline_event!(
                        &mut *conn,
                        &m.workspace_id,
                        m.contact_id.as_deref().unwrap_or_default(),
                        kind,
                        e.at,
                        event_id,
                        Some(m.id.as_str())
                    )?);
                }
            }
        }
        Ok(())
    }
}
