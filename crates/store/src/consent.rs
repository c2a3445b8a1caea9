//! The consent ledger: the current subscription per contact and channel, and
//! its append-only history.

use crate::{emit_in_tx, on_reader, on_writer, Result, Store, StoreError};
use recado_core::consent::{Channel, ConsentSource, Decision, LegalBasis, SubscriptionState, SubscriptionStatus};
use recado_core::ids::{new_id, IdKind};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SubscriptionRecord {
    pub channel: String,
    pub status: String,
    pub legal_basis: Option<String>,
    pub explanation: Option<String>,
    pub source: String,
    pub actor: String,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct HistoryEntry {
    pub id: String,
    pub channel: String,
    pub status: String,
    pub legal_basis: Option<String>,
    pub explanation: Option<String>,
    pub source: String,
    pub actor: String,
    pub at: i64,
}

/// Who changes a subscription, how, and when.
#[derive(Clone, Copy, Debug)]
pub struct ChangeContext<'a> {
    pub workspace_id: &'a str,
    pub contact_id: &'a str,
    pub channel: Channel,
    pub source: ConsentSource,
    /// A user id, or `system`.
    pub actor: &'a str,
    pub now: i64,
}

/// What a change did.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeOutcome {
    Changed(SubscriptionRecord),
    Unchanged(SubscriptionRecord),
}

impl ChangeOutcome {
    pub fn record(&self) -> &SubscriptionRecord {
        match self {
            ChangeOutcome::Changed(r) | ChangeOutcome::Unchanged(r) => r,
        }
    }
}

/// A change fails either in storage or because the consent rules refuse it.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError<E> {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("refused by the consent rules")]
    Refused(E),
}

fn state_of(record: Option<&SubscriptionRecord>) -> SubscriptionState {
    match record {
        None => SubscriptionState::not_specified(),
        Some(r) => SubscriptionState {
            status: r.status.parse().unwrap_or(SubscriptionStatus::NotSpecified),
            legal_basis: r.legal_basis.as_deref().and_then(|b| b.parse::<LegalBasis>().ok()),
            explanation: r.explanation.clone(),
        },
    }
}

/// The record a contact has before anyone set a subscription.
pub fn not_specified_record(channel: Channel) -> SubscriptionRecord {
    SubscriptionRecord {
        channel: channel.as_str().to_string(),
        status: SubscriptionStatus::NotSpecified.as_str().to_string(),
        legal_basis: None,
        explanation: None,
        source: "system".into(),
        actor: "system".into(),
        updated_at: 0,
    }
}

/// A contact's subscriptions: read on every business send (consent), so it
/// must find them by the contact's key, never by scanning the workspace
/// (`subscriptions_contact`, migration 0011; `tests/query_plans.rs`).
pub const SUBSCRIPTIONS_OF_CONTACT: &str =
    "SELECT channel, status, legal_basis, explanation, source, actor, updated_at \
     FROM subscriptions WHERE workspace_id = $1 AND contact_id = $2 ORDER BY channel";

impl Store {
    /// The stored subscriptions of a contact (channels never set are absent).
    pub async fn subscriptions(&self, workspace_id: &str, contact_id: &str) -> Result<Vec<SubscriptionRecord>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, SubscriptionRecord>(
            SUBSCRIPTIONS_OF_CONTACT
        )
        .bind(workspace_id)
        .bind(contact_id)
        .fetch_all(pool)
        .await?))
    }

    /// The stored subscriptions of many contacts, as `(contact_id, record)`.
    pub async fn subscriptions_of_contacts(
        &self,
        workspace_id: &str,
        contact_ids: &[&str],
    ) -> Result<Vec<(String, SubscriptionRecord)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            contact_id: String,
            #[sqlx(flatten)]
            record: SubscriptionRecord,
        }
        let mut out = Vec::new();
        for chunk in contact_ids.chunks(500) {
            let placeholders = (2..chunk.len() + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT contact_id, channel, status, legal_basis, explanation, source, actor, updated_at \
                 FROM subscriptions WHERE workspace_id = $1 AND contact_id IN ({placeholders})"
            );
            let rows = on_reader!(self, |pool| {
                let mut query = sqlx::query_as::<_, Row>(&sql).bind(workspace_id);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await?
            });
            out.extend(rows.into_iter().map(|r| (r.contact_id, r.record)));
        }
        Ok(out)
    }

    /// Newest first; `before_id` continues a page.
    pub async fn subscription_history(
        &self,
        workspace_id: &str,
        contact_id: &str,
        channel: Channel,
        before_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<HistoryEntry>> {
        let sql = "SELECT id, channel, status, legal_basis, explanation, source, actor, at FROM subscription_history \
                   WHERE workspace_id = $1 AND contact_id = $2 AND channel = $3 AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5";
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, HistoryEntry>(sql)
                .bind(workspace_id)
                .bind(contact_id)
                .bind(channel.as_str())
                .bind(before_id)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Reads the current state, asks `decide` (the consent rules) what to do and
    /// writes the new state, its history entry and a timeline event, all in one
    /// transaction so that two concurrent changes cannot both decide on the same
    /// stale state.
    pub async fn change_subscription<E>(
        &self,
        ctx: ChangeContext<'_>,
        decide: impl FnOnce(&SubscriptionState) -> std::result::Result<Decision, E>,
    ) -> std::result::Result<ChangeOutcome, ChangeError<E>> {
        // PostgreSQL: lock the contact row; SQLite: the single writer already
        // serialises every write transaction.
        let lock_sql = format!(
            "SELECT id FROM contacts WHERE workspace_id = $1 AND id = $2 AND erased_at IS NULL{}",
            self.dialect().for_update()
        );
        let select = "SELECT channel, status, legal_basis, explanation, source, actor, updated_at FROM subscriptions \
                      WHERE workspace_id = $1 AND contact_id = $2 AND channel = $3";
        let channel = ctx.channel.as_str();
        let source = ctx.source.as_str();
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await.map_err(StoreError::from)?;
            let exists: Option<String> = sqlx::query_scalar(&lock_sql)
                .bind(ctx.workspace_id)
                .bind(ctx.contact_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            if exists.is_none() {
                return Err(ChangeError::Store(StoreError::NotFound));
            }
            let current: Option<SubscriptionRecord> = sqlx::query_as(select)
                .bind(ctx.workspace_id)
                .bind(ctx.contact_id)
                .bind(channel)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            let next = match decide(&state_of(current.as_ref())).map_err(ChangeError::Refused)? {
                Decision::Unchanged => {
                    return Ok(ChangeOutcome::Unchanged(
                        current.unwrap_or_else(|| not_specified_record(ctx.channel)),
                    ));
                }
                Decision::Change(next) => next,
            };
            let record = SubscriptionRecord {
                channel: channel.to_string(),
                status: next.status.as_str().to_string(),
                legal_basis: next.legal_basis.map(|b| b.as_str().to_string()),
                explanation: next.explanation.clone(),
                source: source.to_string(),
                actor: ctx.actor.to_string(),
                updated_at: ctx.now,
            };
            sqlx::query(
                "INSERT INTO subscriptions (workspace_id, contact_id, channel, status, legal_basis, explanation, source, actor, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (contact_id, channel) DO UPDATE SET status = excluded.status, legal_basis = excluded.legal_basis, \
                 explanation = excluded.explanation, source = excluded.source, actor = excluded.actor, updated_at = excluded.updated_at",
            )
            .bind(ctx.workspace_id)
            .bind(ctx.contact_id)
            .bind(channel)
            .bind(&record.status)
            .bind(&record.legal_basis)
            .bind(&record.explanation)
            .bind(source)
            .bind(ctx.actor)
            .bind(ctx.now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            sqlx::query(
                "INSERT INTO subscription_history (id, workspace_id, contact_id, channel, status, legal_basis, explanation, source, actor, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(new_id(IdKind::Event))
            .bind(ctx.workspace_id)
            .bind(ctx.contact_id)
            .bind(channel)
            .bind(&record.status)
            .bind(&record.legal_basis)
            .bind(&record.explanation)
            .bind(source)
            .bind(ctx.actor)
            .bind(ctx.now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            let details = serde_json::json!({
                "channel": channel,
                "status": record.status,
                "legal_basis": record.legal_basis,
                "source": source,
                "actor": ctx.actor,
            });
            let event_id = new_id(IdKind::Event);
            sqlx::query(
                "INSERT INTO timeline_events (id, workspace_id, contact_id, type, at, message_id, campaign, sender, details) \
                 VALUES ($1, $2, $3, 'SUBSCRIPTION_CHANGED', $4, NULL, NULL, NULL, $5)",
            )
            .bind(&event_id)
            .bind(ctx.workspace_id)
            .bind(ctx.contact_id)
            .bind(ctx.now)
            .bind(details.to_string())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            crate::workflows::on_timeline_event!(
                &mut *tx,
                ctx.workspace_id,
                ctx.contact_id,
                "SUBSCRIPTION_CHANGED",
                ctx.now,
                &event_id,
                None
            )
            .map_err(StoreError::from)?;
            let event = serde_json::json!({
                "contact_id": ctx.contact_id, "channel": channel, "status": record.status, "legal_basis": record.legal_basis,
                "explanation": record.explanation, "source": source, "actor": ctx.actor, "at": recado_core::clock::to_rfc3339(ctx.now),
            });
            let emitted: Result<()> = async {
                emit_in_tx!(tx, ctx.workspace_id, "consent.changed", &event, ctx.now);
                Ok(())
            }
            .await;
            emitted?;
            tx.commit().await.map_err(StoreError::from)?;
            Ok(ChangeOutcome::Changed(record))
        })
    }
}
