//! SMS sends in batches: what each claimed job's message needs (nothing,
//! `uncertain`, `not_sent` for a deleted channel, or a submission), the
//! marks of the submissions written together, the submissions made
//! concurrently, and their outcomes recorded as they arrive.

use crate::channels::registry::{decode_sms, LoadedSms};
use crate::messages::delivery::{count_status, update_for, Report};
use crate::messages::send_job::channel_gone_reason;
use crate::sms::providers::{request, settlement_of, unsubscribe_provider, Accepted, NotAccepted, Settlement};
use crate::workers::{record_failure, JobError};
use crate::AppState;
use futures::StreamExt;
use recado_core::broadcasts::Status as BroadcastStatus;
use recado_core::delivery::OutboundStatus;
use recado_core::jobs::Task;
use recado_store::deliveries::DeliveryChange;
use recado_store::jobs::{Job, NewJob};
use recado_store::messages::MessageRecord;
use recado_store::{StoreError, WriteTx};
use std::collections::HashMap;
use std::sync::Arc;

/// Submissions in flight per batch. The SMPP session keeps its own window
/// below this; HTTP providers see at most this many requests at once.
const IN_FLIGHT: usize = 64;

/// Most outcomes recorded in one transaction; fewer when fewer are ready.
const OUTCOMES_PER_COMMIT: usize = 256;

/// How soon a send for a channel bound by another node is offered again.
const ELSEWHERE_RETRY_MS: i64 = 200;

/// Attempts of a sandbox receipt job.
const RECEIPT_ATTEMPTS: i64 = 5;

/// A job whose message the hub settles itself: the status it takes and
/// why.
pub(super) type Settle = (Job, MessageRecord, OutboundStatus, Option<(String, String)>);

/// A message to submit, its job and its channel.
struct Ready {
    job: Job,
    message: MessageRecord,
    channel: Arc<LoadedSms>,
}

/// The channel of a send, decoded (from the cache when fresh). None when
/// it was deleted.
pub(super) async fn channel(state: &AppState, id: &str) -> Result<Option<Arc<LoadedSms>>, JobError> {
    if let Some(hit) = state.channel_cache.get_sms(id) {
        return Ok(Some(hit));
    }
    let Some(record) = state.store.channel_by_id(id).await? else {
        return Ok(None);
    };
    let loaded = Arc::new(decode_sms(state, record)?);
    state.channel_cache.put_sms(id, loaded.clone());
    Ok(Some(loaded))
}

/// The messages the claimed jobs name, by id (messages gone are absent).
pub(super) async fn messages_of(
    state: &AppState,
    jobs: &[(Job, String)],
) -> Result<HashMap<String, MessageRecord>, StoreError> {
    let ids: Vec<&str> = jobs.iter().map(|(_, id)| id.as_str()).collect();
    Ok(state
        .store
        .messages_by_ids(&ids)
        .await?
        .into_iter()
        .map(|m| (m.id.to_string(), m))
        .collect())
}

/// Runs the claimed send jobs `jobs` (each with its message id).
pub(super) async fn send_batch(state: &AppState, worker: &str, jobs: Vec<(Job, String)>) -> Result<(), StoreError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut messages = messages_of(state, &jobs).await?;
    let holds = crate::broadcasts::holds(state, messages.values()).await?;
    let mut nothing_to_do: Vec<Job> = Vec::new();
    let mut settle: Vec<Settle> = Vec::new();
    let mut ready: Vec<Ready> = Vec::new();
    let mut failed: Vec<(Job, JobError)> = Vec::new();
    for (job, id) in jobs {
        let Some(message) = messages.remove(&id) else {
            failed.push((job, JobError::Permanent(format!("message {id} is gone"))));
            continue;
        };
        if message.status != OutboundStatus::Queued {
            nothing_to_do.push(job);
            continue;
        }
        // An earlier attempt may have reached the provider: never again.
        if message.send_attempted_at.is_some() {
            settle.push((job, message, OutboundStatus::Uncertain, None));
            continue;
        }
        // A paused broadcast's messages wait; a cancelled one's are not sent.
        match message.campaign_id.as_ref().and_then(|c| holds.get(c)) {
            Some(BroadcastStatus::Cancelled) => {
                let reason = crate::broadcasts::cancelled_reason();
                settle.push((job, message, OutboundStatus::NotSent, Some(reason)));
                continue;
            }
            Some(_) => {
                let after_ms = crate::broadcasts::HELD_RETRY_MS;
                failed.push((job, JobError::Later { after_ms }));
                continue;
            }
            None => {}
        }
        let channel = match channel(state, &message.channel_id).await {
            Ok(Some(channel)) => channel,
            Ok(None) => {
                settle.push((job, message, OutboundStatus::NotSent, Some(channel_gone_reason())));
                continue;
            }
            Err(e) => {
                failed.push((job, e));
                continue;
            }
        };
        // Asked before the send is marked attempted, so a send handed to
        // the node that binds the channel is not taken for one that may
        // have reached the provider.
        if let Err(e) = crate::sms::providers::ready_here(state, &channel).await {
            failed.push((job, e));
            continue;
        }
        ready.push(Ready { job, message, channel });
    }
    let now = state.clock.now_ms();
    let started = std::time::Instant::now();
    let mut tx = state.store.write().await?;
    let reports: Vec<(&str, Report<'_>)> = settle
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
    let changed = apply_reports(&mut tx, reports, now).await?;
    let ready_ids: Vec<&str> = ready.iter().map(|r| r.message.id.as_str()).collect();
    let marked = tx.mark_sends_attempted(&ready_ids, now).await?;
    // A message settled since it was read is left alone.
    let (to_submit, settled_meanwhile): (Vec<Ready>, Vec<Ready>) =
        ready.into_iter().partition(|r| marked.contains(r.message.id.as_str()));
    let finished: Vec<&str> = nothing_to_do
        .iter()
        .chain(settle.iter().map(|(job, ..)| job))
        .chain(settled_meanwhile.iter().map(|r| &r.job))
        .map(|job| job.id.as_str())
        .collect();
    tx.complete_jobs(&finished, worker, now).await?;
    tx.commit().await?;
    tracing::debug!(
        sends = to_submit.len(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "sends marked attempted"
    );
    count_changes(&changed);
    for (job, error) in failed {
        record_failure(state, worker, job, error).await?;
    }
    let mut outcomes = futures::stream::iter(to_submit)
        .map(|ready| async move {
            let outcome = request(state, &ready.channel, &ready.message).await;
            (ready, outcome)
        })
        .buffer_unordered(IN_FLIGHT)
        .ready_chunks(OUTCOMES_PER_COMMIT);
    while let Some(chunk) = outcomes.next().await {
        record_outcomes(state, worker, chunk).await?;
    }
    Ok(())
}

/// Writes reports about messages (at most one per message) together.
pub(super) async fn apply_reports(
    tx: &mut WriteTx,
    reports: Vec<(&str, Report<'_>)>,
    now: i64,
) -> Result<Vec<DeliveryChange>, StoreError> {
    let ids: Vec<&str> = reports.iter().map(|(id, _)| *id).collect();
    let mut by_id: HashMap<&str, Report<'_>> = reports.into_iter().collect();
    tx.update_deliveries(&ids, now, |current| {
        by_id
            .remove(current.id.as_str())
            .and_then(|report| update_for(current, report))
    })
    .await
}

/// Counts the messages whose status a batch changed.
pub(super) fn count_changes(changes: &[DeliveryChange]) {
    changes
        .iter()
        .filter(|c| c.status_changed())
        .for_each(|c| count_status(&c.message));
}

/// What recording an outcome leaves to do after the commit.
#[derive(Default)]
struct FollowUp {
    changed: Vec<DeliveryChange>,
    failures: Vec<(Job, JobError)>,
    opt_outs: Vec<MessageRecord>,
}

/// Records submission outcomes together; if that fails, each on its own,
/// so one bad outcome (a provider id already used, say) does not lose the
/// others. An outcome that cannot be recorded leaves its job leased: the
/// lease runs out and the message, marked attempted, becomes `uncertain`.
async fn record_outcomes(
    state: &AppState,
    worker: &str,
    outcomes: Vec<(Ready, Result<Accepted, NotAccepted>)>,
) -> Result<(), StoreError> {
    let follow = match write_outcomes(state, worker, &outcomes).await {
        Ok(follow) => follow,
        Err(e) => {
            tracing::warn!(error = %e, "recording a batch of send outcomes failed; recording them one by one");
            let mut all = FollowUp::default();
            for outcome in &outcomes {
                match write_outcomes(state, worker, std::slice::from_ref(outcome)).await {
                    Ok(one) => {
                        all.changed.extend(one.changed);
                        all.failures.extend(one.failures);
                        all.opt_outs.extend(one.opt_outs);
                    }
                    Err(e) => {
                        tracing::error!(message = %outcome.0.message.id, error = %e, "could not record a send outcome")
                    }
                }
            }
            all
        }
    };
    count_changes(&follow.changed);
    for (job, error) in follow.failures {
        record_failure(state, worker, job, error).await?;
    }
    for message in follow.opt_outs {
        if let Err(e) = unsubscribe_provider(state, &message).await {
            tracing::error!(message = %message.id, error = ?e, "could not record the provider's opt-out");
        }
    }
    Ok(())
}

async fn write_outcomes(
    state: &AppState,
    worker: &str,
    outcomes: &[(Ready, Result<Accepted, NotAccepted>)],
) -> Result<FollowUp, StoreError> {
    let now = state.clock.now_ms();
    let mut follow = FollowUp::default();
    let mut reports: Vec<(&str, Report<'_>)> = Vec::new();
    let mut completed: Vec<&str> = Vec::new();
    let mut not_attempted: Vec<&str> = Vec::new();
    let mut parts: Vec<(&str, &str, &[String])> = Vec::new();
    let mut receipts: Vec<NewJob<'_>> = Vec::new();
    for (ready, outcome) in outcomes {
        let message = &ready.message;
        let settled = match outcome {
            Ok(accepted) => {
                if !accepted.parts.is_empty() {
                    parts.push((ready.channel.record.id.as_str(), message.id.as_str(), &accepted.parts));
                }
                if let Some(at) = accepted.receipt_at {
                    receipts.push(NewJob {
                        task: Task::SmsSandboxReceipt {
                            message_id: message.id.to_string(),
                        },
                        workspace_id: Some(&message.workspace_id),
                        run_at: at,
                        max_attempts: RECEIPT_ATTEMPTS,
                    });
                }
                Some((OutboundStatus::Sent, None, Some(accepted.provider_id.as_str())))
            }
            Err(NotAccepted::Send(error)) => match settlement_of(error) {
                Settlement::NotSent { error, opt_out } => {
                    if opt_out {
                        follow.opt_outs.push(message.clone());
                    }
                    Some((OutboundStatus::NotSent, Some(error), None))
                }
                Settlement::Uncertain => Some((OutboundStatus::Uncertain, None, None)),
                Settlement::Retry {
                    message: text,
                    retry_after_ms,
                } => {
                    let error = JobError::Retry {
                        message: text,
                        retry_after_ms,
                    };
                    follow.failures.push((ready.job.clone(), error));
                    None
                }
            },
            Err(NotAccepted::Elsewhere) => {
                let error = JobError::Elsewhere {
                    retry_after_ms: ELSEWHERE_RETRY_MS,
                };
                follow.failures.push((ready.job.clone(), error));
                None
            }
            Err(NotAccepted::Permanent(text)) => {
                follow
                    .failures
                    .push((ready.job.clone(), JobError::Permanent(text.clone())));
                None
            }
        };
        match settled {
            Some((status, error, provider_id)) => {
                let report = Report {
                    status,
                    error,
                    provider_id,
                };
                reports.push((message.id.as_str(), report));
                completed.push(ready.job.id.as_str());
            }
            // Nothing reached the provider: a later attempt may send.
            None => not_attempted.push(message.id.as_str()),
        }
    }
    let asked = std::time::Instant::now();
    let mut tx = state.store.write().await?;
    let began = std::time::Instant::now();
    tx.insert_message_parts_many(&parts).await?;
    follow.changed = apply_reports(&mut tx, reports, now).await?;
    tx.enqueue_many(&receipts, now).await?;
    tx.clear_sends_attempted(&not_attempted).await?;
    tx.complete_jobs(&completed, worker, now).await?;
    let wrote = std::time::Instant::now();
    tx.commit().await?;
    tracing::debug!(
        rows = outcomes.len(),
        wait_ms = (began - asked).as_secs_f64() * 1e3,
        write_ms = (wrote - began).as_secs_f64() * 1e3,
        commit_ms = wrote.elapsed().as_secs_f64() * 1e3,
        "outcome transaction"
    );
    Ok(follow)
}
