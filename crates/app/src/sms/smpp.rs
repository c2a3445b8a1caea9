//! SMPP channels: one ESME session per channel, kept bound by this node.
//! Submits go through the session; receipts and MO messages it reports are
//! turned into jobs at once, so they are durable and processed with the same
//! retries as webhooks (a receipt can overtake the submit's own answer).

use super::receipts;
use crate::channels::registry::{decode_sms, LoadedSms};
use crate::channels::sms_config::{SmppSettings, SmsProviderSettings};
use crate::workers::JobError;
use crate::AppState;
use recado_channels::sms::smpp::{parts_from_plan, start, SmppConfig, SmppEvent, SmppHandle, SmppVersion};
use recado_channels::sms::DeliveryState;
use recado_core::delivery::{message_outcome_of_parts, OutboundStatus, PartState};
use recado_store::jobs::{Job, NewJob};
use recado_store::messages::MessageRecord;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex};

pub const JOB_RECEIPT: &str = "sms.smpp_receipt";
pub const JOB_INBOUND: &str = "sms.smpp_inbound";

/// The running sessions of this node, by channel id.
#[derive(Default)]
pub struct SmppSessions {
    sessions: Mutex<HashMap<String, Arc<SmppHandle>>>,
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

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry {
        message: e.to_string(),
        retry_after_ms: None,
    }
}

/// The session of a channel, started when it is not running.
async fn session(state: &AppState, channel: &LoadedSms) -> Option<Arc<SmppHandle>> {
    let SmsProviderSettings::Smpp(settings) = &channel.sms.provider else {
        return None;
    };
    let mut sessions = state.smpp.sessions.lock().await;
    if let Some(h) = sessions.get(&channel.record.id) {
        return Some(h.clone());
    }
    let (tx, mut rx) = mpsc::channel::<SmppEvent>(1024);
    let handle = Arc::new(start(config_of(settings), tx));
    sessions.insert(channel.record.id.clone(), handle.clone());
    let (state, channel_id, workspace_id) = (
        state.clone(),
        channel.record.id.clone(),
        channel.record.workspace_id.clone(),
    );
    tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            let (kind, payload) = match event {
                SmppEvent::Receipt {
                    message_id,
                    state: delivery,
                    error,
                } => (
                    JOB_RECEIPT,
                    json!({ "channel_id": channel_id, "part_id": message_id, "delivery": delivery, "error": error }),
                ),
                SmppEvent::Inbound { from, to, text, .. } => (
                    JOB_INBOUND,
                    json!({ "channel_id": channel_id, "from": from, "to": to, "text": text }),
                ),
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
                kind,
                workspace_id: Some(&workspace_id),
                payload,
                run_at: now,
                max_attempts: 12,
            };
            if let Err(e) = state.store.enqueue_job(&job, now).await {
                tracing::error!(error = %e, "could not record an SMPP event");
            }
        }
    });
    Some(handle)
}

/// Starts the sessions of every SMPP channel (at start-up).
pub async fn start_all(state: &AppState) {
    let Ok(records) = state.store.channels_of_kind("sms_smpp").await else {
        return;
    };
    for record in records {
        if let Ok(channel) = decode_sms(state, record) {
            session(state, &channel).await;
        }
    }
}

/// A channel's settings changed: the old session ends, a new one binds.
pub async fn restart(state: &AppState, channel: &LoadedSms) {
    let old = state.smpp.sessions.lock().await.remove(&channel.record.id);
    if let Some(old) = old {
        if let Ok(handle) = Arc::try_unwrap(old) {
            handle.shutdown().await;
        }
    }
    session(state, channel).await;
}

pub async fn submit(state: &AppState, channel: &LoadedSms, message: &MessageRecord) -> Result<(), JobError> {
    let Some(handle) = session(state, channel).await else {
        return Err(JobError::Permanent("not an SMPP channel".into()));
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
        .map_err(|e| JobError::Permanent(format!("cannot cut the text into parts: {e:?}")))?;
    let parts = parts_from_plan(&plan);
    let from = message.sender.clone().unwrap_or_default();
    let to = message.recipient.clone().unwrap_or_default();
    match handle.submit(&from, &to, parts).await {
        Ok(ids) => {
            state
                .store
                .insert_message_parts(&channel.record.id, &message.id, &ids)
                .await
                .map_err(retry)?;
            receipts::apply(
                state,
                &message.id,
                OutboundStatus::Sent,
                None,
                ids.first().map(String::as_str),
            )
            .await?;
            Ok(())
        }
        Err(e) => super::providers::settle_send_error(state, message, e).await,
    }
}

/// A receipt for one part. The message is delivered when every part is, and
/// not delivered as soon as one part is not.
pub async fn receipt_job(state: AppState, job: Job) -> Result<(), JobError> {
    let p = job.payload_json();
    let (Some(channel_id), Some(part_id)) = (p["channel_id"].as_str(), p["part_id"].as_str()) else {
        return Err(JobError::Permanent("receipt without channel or part id".into()));
    };
    let delivery: DeliveryState = match p["delivery"]["state"].as_str() {
        Some("delivered") => DeliveryState::Delivered,
        Some("not_delivered") => DeliveryState::NotDelivered {
            code: p["delivery"]["code"].as_str().map(str::to_string),
        },
        _ => DeliveryState::Accepted,
    };
    let reported = match &delivery {
        DeliveryState::Accepted => PartState::Accepted,
        DeliveryState::Delivered => PartState::Delivered,
        DeliveryState::NotDelivered { .. } => PartState::NotDelivered,
    };
    let Some(parts) = state
        .store
        .update_part_state(channel_id, part_id, |current| {
            let current: PartState = current.parse().unwrap_or(PartState::Accepted);
            let next = current.advance(reported);
            (next != current).then(|| next.as_str().to_string())
        })
        .await
        .map_err(retry)?
    else {
        // The receipt overtook the submit's answer: try again when the parts are known.
        return Err(JobError::Retry {
            message: format!("no part {part_id} yet"),
            retry_after_ms: Some(1_000),
        });
    };
    let message_id = parts[0].message_id.clone();
    let states: Vec<PartState> = parts
        .iter()
        .map(|part| part.state.parse().unwrap_or(PartState::Accepted))
        .collect();
    match message_outcome_of_parts(&states) {
        Some(OutboundStatus::NotDelivered) => {
            let code = match delivery {
                DeliveryState::NotDelivered { code } => code,
                _ => None,
            }
            .or_else(|| p["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| "undelivered".into());
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

pub async fn inbound_job(state: AppState, job: Job) -> Result<(), JobError> {
    let p = job.payload_json();
    let channel_id = p["channel_id"].as_str().unwrap_or_default();
    let Some(record) = state.store.channel_by_id(channel_id).await.map_err(retry)? else {
        return Ok(());
    };
    let channel = decode_sms(&state, record)?;
    let sms = super::inbound::InboundSms {
        from: p["from"].as_str().unwrap_or_default(),
        to: p["to"].as_str().unwrap_or_default(),
        text: p["text"].as_str().unwrap_or_default(),
        provider_message_id: None,
    };
    super::inbound::receive(&state, &channel, sms).await?;
    Ok(())
}
