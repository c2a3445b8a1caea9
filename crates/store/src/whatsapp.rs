//! WhatsApp-specific records: synced templates, counted conversations, usage
//! settings and the notifications sent when usage crosses a threshold.

use crate::{on_reader, on_writer, Result, Store, StoreError};
use recado_core::ids::{new_id, IdKind};
use recado_core::whatsapp::TemplateStatus;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct TemplateRecord {
    pub id: String,
    pub workspace_id: String,
    pub channel_id: String,
    pub provider_template_id: Option<String>,
    pub name: String,
    pub language: String,
    pub category: String,
    #[sqlx(try_from = "String")]
    pub status: TemplateStatus,
    pub components: String,
    pub updated_at: i64,
}

const TEMPLATE_COLUMNS: &str =
    "id, workspace_id, channel_id, provider_template_id, name, language, category, status, components, updated_at";

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct UsageSettingsRecord {
    pub wa_monthly_limit: i64,
    pub wa_billing_anchor_day: i64,
    pub wa_count_user_initiated: bool,
    pub wa_packs: i64,
    pub timezone: String,
}

/// A notification to record once per workspace, kind, period and percent.
#[derive(Clone, Debug)]
pub struct NewNotification<'a> {
    pub workspace_id: &'a str,
    pub kind: &'a str,
    pub period_start: i64,
    pub percent: i64,
    pub details: &'a serde_json::Value,
    /// The outbound webhook event it also is, if any.
    pub event: Option<&'a str>,
    /// Whether admins are e-mailed about it (an `email.notify` job).
    pub email: bool,
    pub at: i64,
}

/// Attempts to e-mail a notification before giving up.
pub const EMAIL_ATTEMPTS: i64 = 8;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct NotificationRecord {
    pub id: String,
    pub kind: String,
    pub period_start: i64,
    pub percent: i64,
    pub details: String,
    pub at: i64,
}

impl Store {
    /// Inserts or refreshes templates of a channel (matched by name and language).
    pub async fn upsert_templates(&self, templates: &[TemplateRecord]) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            for t in templates {
                sqlx::query(
                    "INSERT INTO wa_templates (id, workspace_id, channel_id, provider_template_id, name, language, category, status, components, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (channel_id, name, language) DO UPDATE SET provider_template_id = excluded.provider_template_id, \
                     category = excluded.category, status = excluded.status, components = excluded.components, updated_at = excluded.updated_at",
                )
                .bind(&t.id)
                .bind(&t.workspace_id)
                .bind(&t.channel_id)
                .bind(&t.provider_template_id)
                .bind(&t.name)
                .bind(&t.language)
                .bind(&t.category)
                .bind(t.status.as_str())
                .bind(&t.components)
                .bind(t.updated_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Applies a template-status webhook; returns whether a template matched.
    pub async fn set_template_status(
        &self,
        channel_id: &str,
        name: &str,
        language: &str,
        status: TemplateStatus,
        now: i64,
    ) -> Result<bool> {
        Ok(on_writer!(self, |pool| {
            sqlx::query("UPDATE wa_templates SET status = $1, updated_at = $2 WHERE channel_id = $3 AND name = $4 AND language = $5")
                .bind(status.as_str())
                .bind(now)
                .bind(channel_id)
                .bind(name)
                .bind(language)
                .execute(pool)
                .await?
                .rows_affected()
                > 0
        }))
    }

    pub async fn templates(&self, workspace_id: &str, channel_id: Option<&str>) -> Result<Vec<TemplateRecord>> {
        let sql = format!(
            "SELECT {TEMPLATE_COLUMNS} FROM wa_templates WHERE workspace_id = $1 AND ($2 IS NULL OR channel_id = $2) ORDER BY name, language"
        );
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, TemplateRecord>(&sql)
            .bind(workspace_id)
            .bind(channel_id)
            .fetch_all(pool)
            .await?))
    }

    pub async fn template(&self, channel_id: &str, name: &str, language: &str) -> Result<Option<TemplateRecord>> {
        let sql = format!(
            "SELECT {TEMPLATE_COLUMNS} FROM wa_templates WHERE channel_id = $1 AND name = $2 AND language = $3"
        );
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, TemplateRecord>(&sql)
                .bind(channel_id)
                .bind(name)
                .bind(language)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Counted conversations of a workspace in `[from, to)`.
    pub async fn count_conversations(&self, workspace_id: &str, from: i64, to: i64) -> Result<u64> {
        let n: i64 = on_reader!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM wa_conversations WHERE workspace_id = $1 AND at >= $2 AND at < $3")
                .bind(workspace_id)
                .bind(from)
                .bind(to)
                .fetch_one(pool)
                .await?
        });
        Ok(n as u64)
    }

    pub async fn usage_settings(&self, workspace_id: &str) -> Result<UsageSettingsRecord> {
        let sql = "SELECT wa_monthly_limit, wa_billing_anchor_day, wa_count_user_initiated, wa_packs, timezone FROM workspaces WHERE id = $1";
        on_reader!(self, |pool| sqlx::query_as::<_, UsageSettingsRecord>(sql)
            .bind(workspace_id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    pub async fn set_usage_settings(&self, workspace_id: &str, s: &UsageSettingsRecord) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE workspaces SET wa_monthly_limit = $1, wa_billing_anchor_day = $2, wa_count_user_initiated = $3, wa_packs = $4 WHERE id = $5",
            )
            .bind(s.wa_monthly_limit)
            .bind(s.wa_billing_anchor_day)
            .bind(s.wa_count_user_initiated)
            .bind(s.wa_packs)
            .bind(workspace_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records a notification once per (kind, period, percent), and with a
    /// new one the outbound event `event` (with `details` as its payload) in
    /// the same transaction; returns whether it is new.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_notification(&self, n: &NewNotification<'_>) -> Result<bool> {
        Ok(on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let id = new_id(IdKind::Event);
            let new = sqlx::query(
                "INSERT INTO notifications (id, workspace_id, kind, period_start, percent, details, at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (workspace_id, kind, period_start, percent) DO NOTHING",
            )
            .bind(&id)
            .bind(n.workspace_id)
            .bind(n.kind)
            .bind(n.period_start)
            .bind(n.percent)
            .bind(n.details.to_string())
            .bind(n.at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if let (true, Some(event)) = (new, n.event) {
                crate::emit_in_tx!(tx, n.workspace_id, event, n.details, n.at);
            }
            if new && n.email {
                let job = crate::jobs::NewJob {
                    task: recado_core::jobs::Task::EmailNotify {
                        workspace_id: n.workspace_id.to_string(),
                        notification_id: id.clone(),
                    },
                    workspace_id: Some(n.workspace_id),
                    run_at: n.at,
                    max_attempts: EMAIL_ATTEMPTS,
                };
                crate::insert_job!(&mut *tx, &job, n.at)?;
            }
            tx.commit().await?;
            new
        }))
    }

    /// One notification by id.
    pub async fn notification(&self, workspace_id: &str, id: &str) -> Result<Option<NotificationRecord>> {
        let sql = "SELECT id, kind, period_start, percent, details, at FROM notifications WHERE workspace_id = $1 AND id = $2";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, NotificationRecord>(sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// Newest first.
    pub async fn notifications(
        &self,
        workspace_id: &str,
        kind: Option<&str>,
        period_start: Option<i64>,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>> {
        let sql = "SELECT id, kind, period_start, percent, details, at FROM notifications WHERE workspace_id = $1 \
                   AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR period_start = $3) ORDER BY id DESC LIMIT $4";
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, NotificationRecord>(sql)
                .bind(workspace_id)
                .bind(kind)
                .bind(period_start)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }
}

impl Store {
    /// The workspace's own keyword confirmation texts (opt-in, opt-out), if set.
    pub async fn keyword_replies(&self, workspace_id: &str) -> Result<(Option<String>, Option<String>)> {
        let row: Option<(Option<String>, Option<String>)> = on_reader!(self, |pool| {
            sqlx::query_as("SELECT opt_in_reply, opt_out_reply FROM workspaces WHERE id = $1")
                .bind(workspace_id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound)
    }

    pub async fn set_keyword_replies(
        &self,
        workspace_id: &str,
        opt_in: Option<&str>,
        opt_out: Option<&str>,
    ) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("UPDATE workspaces SET opt_in_reply = $1, opt_out_reply = $2 WHERE id = $3")
                .bind(opt_in)
                .bind(opt_out)
                .bind(workspace_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
