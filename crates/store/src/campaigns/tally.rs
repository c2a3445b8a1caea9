//! Campaign counters kept as events are recorded: every place that writes a
//! timeline entry about a message (or a message of a campaign) calls into
//! here inside the same transaction, so the counters can never disagree
//! with the events. What an event counts is core's
//! [`recado_core::campaigns::effect_of`]; this module only writes it.

use crate::messages::{MessageRecord, MESSAGE_COLUMNS};
use crate::write::{on_tx, Tx};
use crate::{Result, WriteTx};
use recado_core::campaigns::{effect_of, hour_of, Counter, MessageFacts, Milestone, Source, REPLY_WINDOW_MS};
use recado_core::delivery::Direction;
use recado_core::ids::{new_id, IdKind};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};

/// Rows per multi-row upsert (8 values a row).
const ROWS: usize = 500;

/// Rows each counter is spread over on PostgreSQL (migration 0023), and the
/// round that hands them out to transactions.
const SHARDS: u32 = 16;
static NEXT_SHARD: AtomicU32 = AtomicU32::new(0);

/// An event about a message, as the timeline records it.
pub(crate) struct CampaignEvent<'a> {
    pub message: &'a MessageRecord,
    pub kind: &'a str,
    pub at: i64,
    pub details: &'a serde_json::Value,
}

/// Where a counter is added: workspace, campaign, hour, channel, sender,
/// counter key.
type CountKey = (String, String, i64, String, String, String);

/// A message to stamp with a milestone, and the counters its first
/// stamp adds.
type Stamped = (MessageRecord, Vec<Counter>);

#[derive(Default)]
struct Counts(BTreeMap<CountKey, i64>);

impl Counts {
    fn add(&mut self, m: &MessageRecord, campaign_id: &str, at: i64, counter: &Counter, n: i64) {
        let key = (
            m.workspace_id.clone(),
            campaign_id.to_string(),
            hour_of(at),
            m.channel.as_str().to_string(),
            m.sender.clone().unwrap_or_default(),
            counter.key(),
        );
        *self.0.entry(key).or_default() += n;
    }
}

impl WriteTx {
    /// Sets the `campaign_id` of messages that name a campaign, creating
    /// each campaign on first use (with the message's channel and
    /// `campaign_source`) in this transaction: concurrent first sends find
    /// the same campaign, and a campaign exists exactly when one of its
    /// messages does or it was created on purpose.
    pub(crate) async fn file_in_campaigns(&mut self, messages: Vec<&mut MessageRecord>) -> Result<()> {
        let mut ids: HashMap<(String, String), String> = HashMap::new();
        for m in messages {
            let Some(name) = m.campaign.clone() else {
                continue;
            };
            if m.campaign_id.is_some() || m.direction != Direction::Out {
                continue;
            }
            let key = (m.workspace_id.clone(), name);
            if let Some(id) = ids.get(&key) {
                m.campaign_id = Some(id.clone());
                continue;
            }
            let id = self.campaign_id_named(m, &key.1).await?;
            m.campaign_id = Some(id.clone());
            ids.insert(key, id);
        }
        Ok(())
    }

    async fn campaign_id_named(&mut self, m: &MessageRecord, name: &str) -> Result<String> {
        let select = "SELECT id FROM campaigns WHERE workspace_id = $1 AND name = $2";
        let found: Option<String> = on_tx!(self, |conn| sqlx::query_scalar(select)
            .bind(&m.workspace_id)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?);
        if let Some(id) = found {
            return Ok(id);
        }
        let source = m.campaign_source.unwrap_or(Source::Api);
        on_tx!(self, |conn| {
            sqlx::query(
                "INSERT INTO campaigns (id, workspace_id, name, channel, source, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (workspace_id, name) DO NOTHING",
            )
            .bind(new_id(IdKind::Campaign))
            .bind(&m.workspace_id)
            .bind(name)
            .bind(m.channel.as_str())
            .bind(source.as_str())
            .bind(m.created_at)
            .execute(&mut *conn)
            .await?;
            Ok(sqlx::query_scalar(select)
                .bind(&m.workspace_id)
                .bind(name)
                .fetch_one(&mut *conn)
                .await?)
        })
    }

    /// Counts new messages as recipients of their campaigns, and the
    /// WhatsApp conversations they open (admitted against the monthly quota
    /// in this same transaction).
    pub(crate) async fn count_recipients(&mut self, messages: &[&MessageRecord]) -> Result<()> {
        let mut counts = Counts::default();
        for m in messages {
            if let Some(campaign_id) = &m.campaign_id {
                counts.add(m, campaign_id, m.created_at, &Counter::Recipients, 1);
                if m.counted {
                    counts.add(m, campaign_id, m.created_at, &Counter::Conversations, 1);
                }
            }
        }
        self.add_counts(counts).await
    }

    /// Adds what each event means to its campaign: its counters, its
    /// milestone stamped on the message, and the unique counters of a
    /// milestone reached for the first time. An event about an inbound
    /// message (a reply, an opt-out by keyword) counts for the campaign
    /// message it answers.
    pub(crate) async fn tally(&mut self, events: &[CampaignEvent<'_>]) -> Result<()> {
        let mut counts = Counts::default();
        // Milestones to stamp: (milestone, at) → messages, with the first-time
        // counters of each.
        let mut stamps: BTreeMap<(Milestone, i64), Vec<Stamped>> = BTreeMap::new();
        for e in events {
            let answered;
            let m = match (e.message.direction, &e.message.campaign_id) {
                (Direction::Out, Some(_)) => e.message,
                (Direction::In, _) => match self.answered_message(e.message).await? {
                    Some(found) => {
                        answered = found;
                        &answered
                    }
                    None => continue,
                },
                (Direction::Out, None) => continue,
            };
            let Some(campaign_id) = m.campaign_id.as_deref() else {
                continue;
            };
            let effect = effect_of(
                e.kind,
                e.details,
                MessageFacts {
                    segments: m.segments,
                    error_code: m.error_code.as_deref(),
                },
            );
            for (counter, n) in &effect.counters {
                counts.add(m, campaign_id, e.at, counter, *n);
            }
            if let Some(milestone) = effect.milestone {
                stamps
                    .entry((milestone, e.at))
                    .or_default()
                    .push((m.clone(), effect.first_time.clone()));
            }
        }
        for ((milestone, at), messages) in stamps {
            let stamped = self.stamp(milestone, at, &messages).await?;
            for (m, first_time) in messages.iter().filter(|(m, _)| stamped.contains(m.id.as_str())) {
                for counter in first_time {
                    counts.add(m, m.campaign_id.as_deref().unwrap_or_default(), at, counter, 1);
                }
            }
        }
        self.add_counts(counts).await
    }

    /// The campaign message an inbound message answers: the latest outbound
    /// message of a campaign to the same contact through the same channel,
    /// sent within the reply window. (Not the thread: an SMS sent from a
    /// sender name is answered to the channel's number, another thread.)
    async fn answered_message(&mut self, inbound: &MessageRecord) -> Result<Option<MessageRecord>> {
        let Some(contact_id) = &inbound.contact_id else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE contact_id = $1 AND channel_id = $4 AND direction = 'out' \
             AND campaign_id IS NOT NULL AND created_at >= $2 AND created_at <= $3 ORDER BY created_at DESC, id DESC LIMIT 1"
        );
        Ok(on_tx!(self, |conn| sqlx::query_as(&sql)
            .bind(contact_id)
            .bind(inbound.created_at - REPLY_WINDOW_MS)
            .bind(inbound.created_at)
            .bind(&inbound.channel_id)
            .fetch_optional(&mut *conn)
            .await?))
    }

    /// Stamps a milestone on the messages that do not have it yet; the ids
    /// stamped now.
    async fn stamp(
        &mut self,
        milestone: Milestone,
        at: i64,
        messages: &[Stamped],
    ) -> Result<std::collections::HashSet<String>> {
        let mut stamped = std::collections::HashSet::new();
        let column = milestone.column();
        let mut ids: Vec<&str> = messages.iter().map(|(m, _)| m.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(ROWS) {
            let placeholders = (2..chunk.len() + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE messages SET {column} = $1 WHERE id IN ({placeholders}) AND {column} IS NULL RETURNING id"
            );
            let rows: Vec<String> = on_tx!(self, |conn| {
                let mut q = sqlx::query_scalar(&sql).bind(at);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(&mut *conn).await?
            });
            stamped.extend(rows);
        }
        Ok(stamped)
    }

    /// The shard this transaction adds its counters to, the same for all
    /// of them (its rows are locked in key order). On PostgreSQL the next
    /// of a round, so concurrent transactions of one campaign add to
    /// different rows instead of waiting for each other's commit; always 0
    /// on SQLite, whose single writer has nobody to wait for.
    fn count_shard(&mut self) -> i16 {
        *self.count_shard.get_or_insert_with(|| match self.tx {
            Tx::Sqlite(_) => 0,
            Tx::Postgres(_) => (NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS) as i16,
        })
    }

    /// Adds counters, many per statement, in key order (concurrent
    /// transactions lock the same rows in the same order).
    async fn add_counts(&mut self, counts: Counts) -> Result<()> {
        let rows: Vec<(CountKey, i64)> = counts.0.into_iter().filter(|(_, n)| *n != 0).collect();
        if rows.is_empty() {
            return Ok(());
        }
        let shard = self.count_shard();
        for chunk in rows.chunks(ROWS) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO campaign_counts (workspace_id, campaign_id, hour, channel, sender, counter, shard, n) ",
                );
                q.push_values(chunk, |mut b, ((ws, campaign, hour, channel, sender, counter), n)| {
                    b.push_bind(ws)
                        .push_bind(campaign)
                        .push_bind(*hour)
                        .push_bind(channel)
                        .push_bind(sender)
                        .push_bind(counter)
                        .push_bind(shard)
                        .push_bind(*n);
                });
                q.push(
                    " ON CONFLICT (workspace_id, campaign_id, hour, channel, sender, counter, shard) \
                     DO UPDATE SET n = campaign_counts.n + excluded.n",
                );
                q.build().execute(&mut *conn).await?;
            });
        }
        Ok(())
    }
}
