//! Settles `uncertain` sends of Twilio-style HTTP channels from the
//! provider's own list of messages, for when no status callback ever comes
//! (the provider posts none, or its posts cannot reach the hub).
//!
//! A send is uncertain when its request left but the answer with the
//! provider's id was lost. The provider's Messages resource, filtered by the
//! number and the day, shows whether it took the message: the one listed
//! message with the send's text (and no other send's id) is it, and its
//! status settles the send as a callback would. When the list still has no
//! such message well after the attempt, the provider never took it: the
//! send ends `failed`. It is never sent again by the hub.
//!
//! SMPP sends have no such list: they stay uncertain with their reason.

use super::receipts;
use crate::channels::registry::decode_sms;
use crate::channels::sms_config::SmsProviderSettings;
use crate::AppState;
use chrono::{TimeZone, Utc};
use recado_channels::sms::http::{find_send, parse_status_callback, Lookup};
use recado_core::consent::Channel;
use recado_core::delivery::{MessageStatus, OutboundStatus};
use recado_store::messages::MessageRecord;
use std::collections::HashSet;

/// A send younger than this is left to its callbacks.
pub const LOOK_AFTER_MS: i64 = 2 * 60_000;
/// A send the provider still does not list this long after its attempt was
/// never taken by it.
pub const ABSENT_AFTER_MS: i64 = 10 * 60_000;
/// Sends older than this are left alone (the provider's list pages back by
/// day; an operator looks at what remains).
pub const LOOK_BACK_MS: i64 = 3 * 24 * 3_600_000;
/// Most uncertain sends looked at per workspace and pass.
const PER_PASS: i64 = 200;

/// The error of a send the provider has no record of.
pub const NO_RECORD: &str = "provider_has_no_record";

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Sends the provider listed: settled with its status and id.
    pub found: usize,
    /// Sends the provider never took: now `failed`.
    pub absent: usize,
    /// Sends still undecided (too young, ambiguous, provider unreachable,
    /// or not an HTTP channel).
    pub open: usize,
}

/// One pass over every workspace's uncertain SMS sends.
pub async fn run(state: &AppState) -> crate::AppResult<Reconciled> {
    let mut done = Reconciled::default();
    let now = state.clock.now_ms();
    for workspace_id in state.store.workspace_ids().await? {
        let uncertain = state
            .store
            .messages(
                &workspace_id,
                Some(MessageStatus::Outbound(OutboundStatus::Uncertain)),
                Some(Channel::Sms),
                None,
                PER_PASS,
            )
            .await?;
        for message in uncertain {
            match reconcile(state, &message, now).await {
                Ok(Outcome::Found) => done.found += 1,
                Ok(Outcome::Absent) => done.absent += 1,
                Ok(Outcome::Open) => done.open += 1,
                Err(e) => {
                    done.open += 1;
                    tracing::warn!(message = %message.id, error = %e, "could not reconcile an uncertain send");
                }
            }
        }
    }
    Ok(done)
}

enum Outcome {
    Found,
    Absent,
    Open,
}

async fn reconcile(state: &AppState, message: &MessageRecord, now: i64) -> anyhow::Result<Outcome> {
    let Some(attempted) = message.send_attempted_at else {
        return Ok(Outcome::Open);
    };
    let age = now - attempted;
    if !(LOOK_AFTER_MS..=LOOK_BACK_MS).contains(&age) {
        return Ok(Outcome::Open);
    }
    let Some(record) = state.store.channel_by_id(&message.channel_id).await? else {
        return Ok(Outcome::Open);
    };
    let channel = decode_sms(state, record)?;
    let SmsProviderSettings::Http(settings) = &channel.sms.provider else {
        return Ok(Outcome::Open);
    };
    let client = super::http::client(state, settings);
    let day = Utc
        .timestamp_millis_opt(attempted)
        .single()
        .unwrap_or_else(Utc::now)
        .date_naive();
    let to = message.recipient.as_deref().unwrap_or_default();
    let from = message.sender.as_deref().unwrap_or_default();
    let text = message.text.as_deref().unwrap_or_default();
    let listed = client.list_sent(to, from, day).await?;
    let mut known = HashSet::new();
    for candidate in listed.iter().filter(|m| m.body == text) {
        if state
            .store
            .message_by_provider_id(&channel.record.id, &candidate.sid)
            .await?
            .is_some()
        {
            known.insert(candidate.sid.clone());
        }
    }
    match find_send(&listed, text, |sid| known.contains(sid)) {
        Lookup::Found(found) => {
            let params = [
                ("MessageSid".to_string(), found.sid.clone()),
                ("MessageStatus".to_string(), found.status.clone()),
                ("ErrorCode".to_string(), found.error_code.clone().unwrap_or_default()),
            ];
            let callback = parse_status_callback(&params)?;
            let (status, error) = super::http::report_of(&callback);
            receipts::apply(state, &message.id, status, error, Some(&found.sid))
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            Ok(Outcome::Found)
        }
        Lookup::Absent if age >= ABSENT_AFTER_MS => {
            let error = (
                NO_RECORD.to_string(),
                "the provider lists no such message: it never took the send".to_string(),
            );
            receipts::apply(state, &message.id, OutboundStatus::Failed, Some(error), None)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            Ok(Outcome::Absent)
        }
        Lookup::Absent | Lookup::Ambiguous => Ok(Outcome::Open),
    }
}
