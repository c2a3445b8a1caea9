//! The SMS sandbox's delivery receipts, many per transaction: each message
//! is delivered or not as the channel's `delivery_ratio` decides for its id
//! (always the same way for the same message).

use super::sms::{apply_reports, channel, count_changes, messages_of, Settle};
use crate::channels::sms_config::SmsProviderSettings;
use crate::messages::delivery::Report;
use crate::sms::providers::sandbox_delivers;
use crate::workers::{record_failure, JobError};
use crate::AppState;
use recado_core::delivery::OutboundStatus;
use recado_store::jobs::Job;
use recado_store::StoreError;

pub(super) async fn sandbox_batch(state: &AppState, worker: &str, jobs: Vec<(Job, String)>) -> Result<(), StoreError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut messages = messages_of(state, &jobs).await?;
    let mut reports: Vec<Settle> = Vec::new();
    let mut failed: Vec<(Job, JobError)> = Vec::new();
    for (job, id) in jobs {
        let Some(message) = messages.remove(&id) else {
            failed.push((job, JobError::Permanent(format!("message {id} is gone"))));
            continue;
        };
        let settings = match channel(state, &message.channel_id).await {
            Ok(Some(c)) => match &c.sms.provider {
                SmsProviderSettings::Sandbox(settings) => settings.clone(),
                _ => {
                    failed.push((job, JobError::Permanent("not a sandbox channel".into())));
                    continue;
                }
            },
            Ok(None) => {
                failed.push((job, JobError::Permanent("channel deleted".into())));
                continue;
            }
            Err(e) => {
                failed.push((job, e));
                continue;
            }
        };
        if sandbox_delivers(&message.id, settings.delivery_ratio) {
            reports.push((job, message, OutboundStatus::Delivered, None));
        } else {
            let error = (
                settings.failure_code.clone(),
                "the sandbox network did not deliver the message".to_string(),
            );
            reports.push((job, message, OutboundStatus::NotDelivered, Some(error)));
        }
    }
    let now = state.clock.now_ms();
    let mut tx = state.store.write().await?;
    let to_apply: Vec<(&str, Report<'_>)> = reports
        .iter()
        .map(|(_, message, status, error)| {
            let report = Report {
                status: *status,
                error: error.clone(),
                provider_id: None,
            };
            (message.id.as_str(), report)
        })
        .collect();
    let changed = apply_reports(&mut tx, to_apply, now).await?;
    let done: Vec<&str> = reports.iter().map(|(job, ..)| job.id.as_str()).collect();
    tx.complete_jobs(&done, worker, now).await?;
    tx.commit().await?;
    count_changes(&changed);
    for (job, error) in failed {
        record_failure(state, worker, job, error).await?;
    }
    Ok(())
}
