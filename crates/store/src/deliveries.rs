//! Delivery reports many per statement: what [`WriteTx::update_delivery`]
//! writes for one message — the new status, provider id and error, its
//! events, its timeline entries (with their workflow hooks) and the
//! `message.status` outbound event — written for a whole batch of outcomes
//! in a handful of statements. The send dispatcher records the answers of
//! hundreds of submissions with it.

use crate::messages::{DeliveryUpdate, MessageRecord, MESSAGE_COLUMNS};
use crate::write::on_tx;
use crate::write_many::TimelineEntry;
use crate::{Result, WriteTx};
use recado_core::delivery::MessageStatus;
use recado_core::ids::{new_id, IdKind};
use std::collections::{BTreeMap, HashMap};

/// Rows per multi-row statement (the widest carries 6 values a row).
const ROWS: usize = 500;

/// Rows per `UPDATE … FROM (VALUES …)`.
const UPDATE_ROWS: usize = 100;

/// A message a report changed.
#[derive(Clone, Debug)]
pub struct DeliveryChange {
    /// The message as it is now.
    pub message: MessageRecord,
    /// Its status before the report.
    pub previous_status: MessageStatus,
}

impl DeliveryChange {
    pub fn status_changed(&self) -> bool {
        self.message.status != self.previous_status
    }
}

/// One decided change, before it is written.
struct Decided {
    next: MessageRecord,
    previous_status: MessageStatus,
    update: DeliveryUpdate,
}

fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl WriteTx {
    /// Applies reports to the messages `ids`, in order: `decide` sees each
    /// message as the earlier reports of the batch left it and returns its
    /// update (None: nothing changes). Unknown ids are skipped. Returns the
    /// messages changed, in order.
    pub async fn update_deliveries(
        &mut self,
        ids: &[&str],
        now: i64,
        mut decide: impl FnMut(&MessageRecord) -> Option<DeliveryUpdate>,
    ) -> Result<Vec<DeliveryChange>> {
        let mut current: HashMap<String, MessageRecord> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS) {
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({}){}",
                placeholders(1, chunk.len()),
                self.dialect.for_update()
            );
            let rows: Vec<MessageRecord> = on_tx!(self, |conn| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(&mut *conn).await?
            });
            current.extend(rows.into_iter().map(|m| (m.id.to_string(), m)));
        }
        let mut decided: Vec<Decided> = Vec::new();
        for id in ids {
            let Some(before) = current.get(*id) else {
                continue;
            };
            let Some(update) = decide(before) else {
                continue;
            };
            let next = updated(before, &update, now);
            let previous_status = before.status;
            current.insert(id.to_string(), next.clone());
            decided.push(Decided {
                previous_status,
                next,
                update,
            });
        }
        if decided.is_empty() {
            return Ok(Vec::new());
        }
        self.write_rows(&decided).await?;
        self.write_events(&decided, now).await?;
        let timeline: Vec<TimelineEntry<'_>> = decided
            .iter()
            .flat_map(|d| {
                d.update.timeline.iter().map(move |(kind, details)| TimelineEntry {
                    message: &d.next,
                    kind: kind.as_str(),
                    at: now,
                    details,
                })
            })
            .collect();
        self.timeline_entries(&timeline).await?;
        self.emit_status_changes(&decided, now).await?;
        Ok(decided
            .into_iter()
            .map(|d| DeliveryChange {
                message: d.next,
                previous_status: d.previous_status,
            })
            .collect())
    }

    /// The final row of each message changed.
    async fn write_rows(&mut self, decided: &[Decided]) -> Result<()> {
        // The last change of a message is its row.
        let mut last: BTreeMap<&str, &MessageRecord> = BTreeMap::new();
        for d in decided {
            last.insert(d.next.id.as_str(), &d.next);
        }
        let rows: Vec<&MessageRecord> = last.into_values().collect();
        for chunk in rows.chunks(UPDATE_ROWS) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "WITH v(id, status, provider_message_id, error_code, error_message, updated_at) AS (",
                );
                q.push_values(chunk, |mut b, m| {
                    b.push_bind(m.id.as_str())
                        .push_bind(m.status.as_str())
                        .push_bind(&m.provider_message_id)
                        .push_bind(&m.error_code)
                        .push_bind(&m.error_message)
                        .push_bind(m.updated_at);
                });
                q.push(
                    ") UPDATE messages SET status = v.status, provider_message_id = v.provider_message_id, \
                     error_code = v.error_code, error_message = v.error_message, updated_at = v.updated_at \
                     FROM v WHERE messages.id = v.id",
                );
                q.build().execute(&mut *conn).await.map_err(|e| {
                    crate::StoreError::unique_as_conflict(e, "provider message id used by another message")
                })?;
            });
        }
        Ok(())
    }

    async fn write_events(&mut self, decided: &[Decided], now: i64) -> Result<()> {
        let events: Vec<(&MessageRecord, &str, &serde_json::Value)> = decided
            .iter()
            .flat_map(|d| {
                d.update
                    .events
                    .iter()
                    .map(move |(kind, details)| (&d.next, kind.as_str(), details))
            })
            .collect();
        for chunk in events.chunks(ROWS) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO message_events (id, workspace_id, message_id, type, at, details) ",
                );
                q.push_values(chunk, |mut b, (m, kind, details)| {
                    b.push_bind(new_id(IdKind::Event))
                        .push_bind(&m.workspace_id)
                        .push_bind(m.id.as_str())
                        .push_bind(*kind)
                        .push_bind(now)
                        .push_bind(details.to_string());
                });
                q.build().execute(&mut *conn).await?;
            });
        }
        Ok(())
    }

    /// `message.status` for each change of status, as the one-by-one path
    /// emits it, with its deliveries to the subscribed endpoints.
    async fn emit_status_changes(&mut self, decided: &[Decided], now: i64) -> Result<()> {
        let mut by_workspace: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
        for d in decided.iter().filter(|d| d.next.status != d.previous_status) {
            let next = &d.next;
            let event = serde_json::json!({
                "message_id": next.id, "contact_id": next.contact_id, "channel": next.channel, "status": next.status,
                "previous_status": d.previous_status, "provider_message_id": next.provider_message_id,
                "error": next.error_code.as_ref().map(|c| serde_json::json!({"code": c, "message": next.error_message})),
                "campaign": next.campaign, "at": recado_core::clock::to_rfc3339(now),
            });
            by_workspace.entry(next.workspace_id.as_str()).or_default().push(event);
        }
        for (workspace_id, payloads) in by_workspace {
            self.emit_many(workspace_id, "message.status", &payloads, now).await?;
        }
        Ok(())
    }
}

/// `current` with `update` applied.
fn updated(current: &MessageRecord, update: &DeliveryUpdate, now: i64) -> MessageRecord {
    let mut next = current.clone();
    if let Some(s) = update.status {
        next.status = s.into();
    }
    if let Some(p) = &update.provider_message_id {
        next.provider_message_id = Some(p.clone());
    }
    if let Some(c) = &update.error_code {
        next.error_code = c.clone();
    }
    if let Some(m) = &update.error_message {
        next.error_message = m.clone();
    }
    next.updated_at = now;
    next
}
