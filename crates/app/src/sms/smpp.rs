//! SMPP channels: one ESME session per channel, kept bound by this node.
//! Submits go through the session; receipts and MO messages it reports are
//! turned into jobs at once, so they are durable and processed with the same
//! retries as webhooks (a receipt can overtake the submit's own answer).

use super::providers::{Accepted, NotAccepted};
use super::receipts;
use crate::channels::registry::{decode_sms, LoadedSms};
use crate::channels::sms_config::{SmppSettings, SmsProviderSettings};
use crate::workers::JobError;
use crate::AppState;
use recado_channels::sms::smpp::{parts_from_plan, start, SmppConfig, SmppEvent, SmppHandle, SmppVersion};
use recado_channels::sms::{DeliveryState, SmsSendError};
use recado_core::delivery::{message_outcome_of_parts, OutboundStatus, PartState};
use recado_core::jobs::{PartReport, Task};
use recado_store::jobs::NewJob;
use recado_store::locks::HeldLock;
use recado_store::messages::MessageRecord;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Mutex};

/// The SMPP channels this node has bound, by channel id. A channel is bound
/// by one node at a time: the node holding its cluster-wide lock (see
/// [`recado_store::locks`]); the others hand its sends back to the queue.
#[derive(Default)]
pub struct SmppSessions {
    bound: Mutex<HashMap<String, Bound>>,
}

impl SmppSessions {
    /// Whether this node holds the bind of `channel_id` now.
    pub async fn holds(&self, channel_id: &str) -> bool {
        self.bound.lock().await.contains_key(channel_id)
    }
}

/// One bound channel: the lock that makes this node its only binder, the
/// session, and the stored settings it was started with.
struct Bound {
    lock: HeldLock,
    handle: SmppHandle,
    started_with: String,
}

/// How often a node looks for SMPP channels nobody binds (a dead node's
/// channels are taken over within this time) and checks its own.
pub const BIND_CHECK_EVERY: Duration = Duration::from_secs(2);

/// How soon a send for a channel bound by another node is offered again.
const ELSEWHERE_RETRY_MS: i64 = 200;

fn lock_name(channel_id: &str) -> String {
    format!("smpp-bind:{channel_id}")
}

/// What a session was started from: a change of settings means a new bind.
fn fingerprint(channel: &LoadedSms) -> String {
    format!("{}|{}", channel.record.config, channel.record.secrets)
}

fn config_of(s: &SmppSettings) -> SmppConfig {
    let mut c = SmppConfig::new(s.host.clone(), s.port, s.system_id.clone(), s.password.clone());
    c.system_type = s.system_type.clone();
    c.interface_version = if s.version == "5.0" {
        SmppVersion::V50
    } else {
        SmppVersion::V34
    };
    c.window = s.window;
    c.throughput_per_sec = s.throughput_per_sec;
    c.enquire_link_secs = s.enquire_link_secs;
    c
}

/// The session of a channel on this node: the running one, or a new one when
/// no node binds the channel yet. None when another node holds the bind.
async fn session(state: &AppState, channel: &LoadedSms) -> Result<Option<SmppHandle>, JobError> {
    let SmsProviderSettings::Smpp(settings) = &channel.sms.provider else {
        return Err(JobError::Permanent("not an SMPP channel".into()));
    };
    let mut bound = state.smpp.bound.lock().await;
    if let Some(b) = bound.get(&channel.record.id) {
        return Ok(Some(b.handle.clone()));
    }
    let Some(lock) = state.store.try_lock(&lock_name(&channel.record.id)).await? else {
        return Ok(None);
    };
    let handle = bind(state, channel, settings);
    bound.insert(
        channel.record.id.clone(),
        Bound {
            lock,
            handle: handle.clone(),
            started_with: fingerprint(channel),
        },
    );
    Ok(Some(handle))
}

/// Starts a session whose receipts and MO messages become jobs.
fn bind(state: &AppState, channel: &LoadedSms, settings: &SmppSettings) -> SmppHandle {
    let (tx, mut rx) = mpsc::channel::<SmppEvent>(1024);
    let handle = start(config_of(settings), tx);
    let (state, channel_id, workspace_id) = (
        state.clone(),
        channel.record.id.clone(),
        channel.record.workspace_id.clone(),
    );
    tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            let task = match event {
                SmppEvent::Receipt {
                    message_id,
                    state: delivery,
                    error,
                } => Task::SmppReceipt {
                    channel_id: channel_id.clone(),
                    part_id: message_id,
                    delivery: report_of(delivery),
                    error,
                },
                SmppEvent::Inbound { from, to, text, .. } => Task::SmppInbound {
                    channel_id: channel_id.clone(),
                    from,
                    to,
                    text,
                },
                SmppEvent::Bound => {
                    tracing::info!(channel = %channel_id, "SMPP bound");
                    continue;
                }
                SmppEvent::Disconnected { reason } => {
                    tracing::warn!(channel = %channel_id, reason, "SMPP disconnected; reconnecting");
                    continue;
                }
            };
            let now = state.clock.now_ms();
            let job = NewJob {
                task,
                workspace_id: Some(&workspace_id),
                run_at: now,
                max_attempts: 12,
            };
            if let Err(e) = state.store.enqueue_job(&job, now).await {
                tracing::error!(error = %e, "could not record an SMPP event");
            }
        }
    });
    handle
}

/// Ends a session (and frees its lock for another node).
async fn unbind(b: Bound) {
    // Stops the session even while a submit holds a clone of it, so no two
    // binds of the channel ever overlap.
    b.handle.shutdown().await;
    b.lock.release().await;
}

/// Binds every SMPP channel no node binds yet, restarts the sessions whose
/// settings changed (on whichever node they were changed) and ends those of
/// channels that are gone or whose lock was lost.
pub async fn keep_bound(state: &AppState) {
    let Ok(records) = state.store.channels_of_kind("sms_smpp").await else {
        return;
    };
    let channels: Vec<LoadedSms> = records
        .into_iter()
        .filter_map(|record| decode_sms(state, record).ok())
        .collect();
    let mut ended = Vec::new();
    {
        let mut bound = state.smpp.bound.lock().await;
        let ids: Vec<String> = bound.keys().cloned().collect();
        for id in ids {
            let current = channels.iter().find(|c| c.record.id == id);
            let b = bound.get_mut(&id).expect("listed above");
            let stale = match current {
                None => true,
                Some(c) => b.started_with != fingerprint(c) || !b.lock.is_alive().await,
            };
            if stale {
                ended.extend(bound.remove(&id));
            }
        }
    }
    for b in ended {
        tracing::info!(
            lock = b.lock.name(),
            "SMPP session ended (settings changed, channel gone or lock lost)"
        );
        unbind(b).await;
    }
    for channel in &channels {
        if let Err(e) = session(state, channel).await {
            tracing::warn!(channel = %channel.record.id, error = ?e, "could not bind an SMPP channel");
        }
    }
}

/// Keeps this node's share of the SMPP channels bound until `shutdown`, then
/// ends its sessions so another node takes them over at once.
pub async fn run_binder(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        keep_bound(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(BIND_CHECK_EVERY) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
    let all: Vec<Bound> = state.smpp.bound.lock().await.drain().map(|(_, b)| b).collect();
    for b in all {
        unbind(b).await;
    }
}

/// A channel's settings changed: when this node binds it, the old session
/// ends and a new one binds now (another node's binder notices the change on
/// its next check).
pub async fn restart(state: &AppState, channel: &LoadedSms) {
    let old = state.smpp.bound.lock().await.remove(&channel.record.id);
    if let Some(old) = old {
        unbind(old).await;
    }
    if let Err(e) = session(state, channel).await {
        tracing::warn!(channel = %channel.record.id, error = ?e, "could not bind an SMPP channel");
    }
}

/// Ok when this node binds the channel (binding it now if no node does);
/// [`JobError::Elsewhere`] when another node holds the bind.
pub async fn bound_here(state: &AppState, channel: &LoadedSms) -> Result<(), JobError> {
    match session(state, channel).await? {
        Some(_) => Ok(()),
        None => Err(JobError::Elsewhere {
            retry_after_ms: ELSEWHERE_RETRY_MS,
        }),
    }
}

/// Submits a message's parts through this node's session of the channel
/// (see [`super::providers::request`]).
pub async fn request(state: &AppState, channel: &LoadedSms, message: &MessageRecord) -> Result<Accepted, NotAccepted> {
    let handle = match session(state, channel).await {
        Ok(Some(handle)) => handle,
        Ok(None) => return Err(NotAccepted::Elsewhere),
        Err(e) => return Err(NotAccepted::Send(SmsSendError::Unreachable(format!("{e:?}")))),
    };
    let content: serde_json::Value = serde_json::from_str(&message.content).unwrap_or_default();
    let options = recado_sms::AnalyzeOptions {
        policy: serde_json::from_value(content["policy"].clone()).unwrap_or(channel.sms.policy),
        national_language: serde_json::from_value(content["national_language"].clone()).unwrap_or(None),
        max_segments: 255,
    };
    let text = message.text.clone().unwrap_or_default();
    let reference = rand::random::<u8>();
    let plan = recado_sms::plan(&text, &options, reference)
        .map_err(|e| NotAccepted::Permanent(format!("cannot cut the text into parts: {e:?}")))?;
    let parts = parts_from_plan(&plan);
    let from = message.sender.clone().unwrap_or_default();
    let to = message.recipient.clone().unwrap_or_default();
    let ids = handle.submit(&from, &to, parts).await.map_err(NotAccepted::Send)?;
    Ok(Accepted {
        provider_id: ids.first().cloned().unwrap_or_default(),
        parts: ids,
        receipt_at: None,
    })
}

/// What the SMSC reported, as the job records it.
fn report_of(delivery: DeliveryState) -> PartReport {
    match delivery {
        DeliveryState::Accepted => PartReport {
            state: PartState::Accepted,
            code: None,
        },
        DeliveryState::Delivered => PartReport {
            state: PartState::Delivered,
            code: None,
        },
        DeliveryState::NotDelivered { code } => PartReport {
            state: PartState::NotDelivered,
            code,
        },
    }
}

/// A receipt for one part. The message is delivered when every part is, and
/// not delivered as soon as one part is not.
pub async fn receipt_job(
    state: AppState,
    channel_id: String,
    part_id: String,
    delivery: PartReport,
    error: Option<String>,
) -> Result<(), JobError> {
    let (channel_id, part_id) = (channel_id.as_str(), part_id.as_str());
    let reported = delivery.state;
    let Some(parts) = state
        .store
        .update_part_state(channel_id, part_id, |current| {
            let next = current.advance(reported);
            (next != current).then_some(next)
        })
        .await?
    else {
        // The receipt overtook the submit's answer: try again when the parts are known.
        return Err(JobError::Retry {
            message: format!("no part {part_id} yet"),
            retry_after_ms: Some(1_000),
        });
    };
    let message_id = parts[0].message_id.clone();
    let states: Vec<PartState> = parts.iter().map(|part| part.state).collect();
    match message_outcome_of_parts(&states) {
        Some(OutboundStatus::NotDelivered) => {
            let code = delivery.code.or(error).unwrap_or_else(|| "undelivered".into());
            receipts::apply(
                &state,
                &message_id,
                OutboundStatus::NotDelivered,
                Some((code, format!("part {part_id} was not delivered"))),
                None,
            )
            .await?;
        }
        Some(status) => {
            receipts::apply(&state, &message_id, status, None, None).await?;
        }
        None => {}
    }
    Ok(())
}

pub async fn inbound_job(
    state: AppState,
    channel_id: String,
    from: String,
    to: String,
    text: String,
) -> Result<(), JobError> {
    let Some(record) = state.store.channel_by_id(&channel_id).await? else {
        return Ok(());
    };
    let channel = decode_sms(&state, record)?;
    let sms = super::inbound::InboundSms {
        from: &from,
        to: &to,
        text: &text,
        provider_message_id: None,
    };
    super::inbound::receive(&state, &channel, sms).await?;
    Ok(())
}
