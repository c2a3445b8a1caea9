//! Templates: synced from the provider on demand and periodically, updated by
//! the template-status webhook, listed for the composer.

use crate::channels::registry::{decode, LoadedChannel};
use crate::error::{AppError, AppResult};
use crate::workers::JobError;
use crate::AppState;
use recado_core::ids::{new_id, IdKind};
use recado_core::jobs::{JobKind, Task};
use recado_core::whatsapp::TemplateStatus;
use recado_store::jobs::{Job, NewJob};
use recado_store::whatsapp::TemplateRecord;

/// How often templates are synced without being asked.
pub const SYNC_EVERY_MS: i64 = 6 * 3600 * 1000;

/// Fetches the account's templates from the provider and stores them.
pub async fn sync_channel(state: &AppState, channel: &LoadedChannel) -> AppResult<usize> {
    let Some(client) = channel.whatsapp.client(&state.http) else {
        return super::sandbox::seed_templates(state, channel).await;
    };
    let account = channel.whatsapp.waba_id.clone().unwrap_or_default();
    let templates = client.list_templates(&account).await.map_err(|e| {
        AppError::new(
            crate::ErrorKind::Upstream,
            "provider_error",
            format!("the provider did not list templates: {e:?}"),
        )
    })?;
    let now = state.clock.now_ms();
    let records: Vec<TemplateRecord> = templates
        .into_iter()
        .filter_map(|t| {
            let Some(status) = TemplateStatus::from_provider(&t.status) else {
                tracing::warn!(template = %t.name, language = %t.language, status = %t.status,
                    "the provider reports a template status the hub does not know; the template is left out until it has a known one");
                return None;
            };
            Some(TemplateRecord {
            id: new_id(IdKind::Event),
            workspace_id: channel.record.workspace_id.clone(),
            channel_id: channel.record.id.clone(),
            provider_template_id: Some(t.id),
            name: t.name,
            language: t.language,
            category: t.category,
            status,
            components: t.components.to_string(),
            updated_at: now,
        })
        })
        .collect();
    state.store.upsert_templates(&records).await?;
    Ok(records.len())
}

/// The periodic sync: syncs every WhatsApp channel, then schedules itself again.
pub async fn sync_job(state: AppState, job: Job) -> Result<(), JobError> {
    let Some(ws) = job.workspace_id.clone() else {
        return Ok(());
    };
    let channels = state
        .store
        .channels(&ws, Some("whatsapp"))
        .await
        .map_err(|e| JobError::Retry {
            message: e.to_string(),
            retry_after_ms: None,
        })?;
    for record in channels {
        let channel = decode(&state, record)?;
        if let Err(e) = sync_channel(&state, &channel).await {
            tracing::warn!(channel = %channel.record.id, error = %e.message, "template sync failed; will try at the next round");
        }
    }
    let next = NewJob {
        task: Task::WhatsAppTemplateSync {},
        workspace_id: Some(&ws),
        run_at: state.clock.now_ms() + SYNC_EVERY_MS,
        max_attempts: 3,
    };
    state
        .store
        .enqueue_job(&next, state.clock.now_ms())
        .await
        .map_err(|e| JobError::Retry {
            message: e.to_string(),
            retry_after_ms: None,
        })?;
    Ok(())
}

/// Starts the periodic template sync of a workspace unless one is scheduled.
pub async fn schedule_periodic_sync(state: &AppState, workspace_id: &str) -> AppResult<()> {
    if state
        .store
        .has_queued_job(JobKind::WhatsAppTemplateSync, workspace_id)
        .await?
    {
        return Ok(());
    }
    let now = state.clock.now_ms();
    let job = NewJob {
        task: Task::WhatsAppTemplateSync {},
        workspace_id: Some(workspace_id),
        run_at: now + SYNC_EVERY_MS,
        max_attempts: 3,
    };
    state.store.enqueue_job(&job, now).await?;
    Ok(())
}
