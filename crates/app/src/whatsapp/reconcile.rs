//! Settles `uncertain` WhatsApp sends that no status ever settled.
//!
//! WhatsApp posts a `sent` status for every message it takes, echoing the
//! hub's own id in `biz_opaque_callback_data`, and the first status settles
//! an uncertain send ([`super::status`]). A send still uncertain
//! [`ABSENT_AFTER_MS`] after its attempt has had no status at all: its
//! request never reached WhatsApp (the node died between marking the attempt
//! and sending it). It ends `failed` with `provider_has_no_record` — the same
//! grace and error as an SMS send its provider does not list — and is never
//! sent again by the hub. A status arriving later still overrules the
//! failure (a delivery outranks it).

use crate::messages::delivery::{count_status, update_for, Report};
use crate::sms::reconcile::NO_RECORD;
use crate::AppState;
use recado_core::consent::Channel;
use recado_core::delivery::{MessageStatus, OutboundStatus};

/// A send with no status this long after its attempt was never taken.
pub const ABSENT_AFTER_MS: i64 = crate::sms::reconcile::ABSENT_AFTER_MS;
/// Uncertain sends read per query.
const PAGE: i64 = 200;

/// One pass over every workspace's uncertain WhatsApp sends. Returns how
/// many ended `failed`.
pub async fn run(state: &AppState) -> crate::AppResult<usize> {
    let now = state.clock.now_ms();
    let uncertain = Some(MessageStatus::Outbound(OutboundStatus::Uncertain));
    let mut failed = 0;
    for workspace_id in state.store.workspace_ids().await? {
        let mut before: Option<String> = None;
        loop {
            let page = state
                .store
                .messages(
                    &workspace_id,
                    uncertain,
                    Some(Channel::Whatsapp),
                    before.as_deref(),
                    PAGE,
                )
                .await?;
            before = page.last().map(|m| m.id.to_string());
            for message in &page {
                let absent = message
                    .send_attempted_at
                    .is_some_and(|attempted| now - attempted >= ABSENT_AFTER_MS);
                if absent && fail(state, &message.id, now).await? {
                    failed += 1;
                }
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
    }
    Ok(failed)
}

/// Fails one uncertain send; false when a status settled it meanwhile.
async fn fail(state: &AppState, id: &str, now: i64) -> crate::AppResult<bool> {
    let error = (
        NO_RECORD.to_string(),
        "no status from WhatsApp since the attempt: it never took the send".to_string(),
    );
    let changed = state
        .store
        .update_delivery(id, now, |current| {
            if current.status.outbound() != Some(OutboundStatus::Uncertain) {
                return None;
            }
            update_for(
                current,
                Report {
                    status: OutboundStatus::Failed,
                    error: Some(error),
                    provider_id: None,
                },
            )
        })
        .await?;
    if let Some(message) = &changed {
        count_status(message);
        tracing::info!(message = %message.id, "an uncertain WhatsApp send with no status ended failed");
    }
    Ok(changed.is_some())
}
