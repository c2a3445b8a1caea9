//! Delivery state of SMS: the provider's acceptance makes a message `sent`
//! (`SMS_SENT`), receipts make it `delivered` or `not_delivered`. A receipt
//! that is processed before the acceptance still records `SMS_SENT` first
//! (the one transition in `messages::delivery`).

use crate::messages::delivery::{update_for, Report};
use crate::workers::JobError;
use crate::AppState;
use recado_core::delivery::OutboundStatus;
use recado_store::messages::MessageRecord;

pub async fn apply(
    state: &AppState,
    message_id: &str,
    incoming: OutboundStatus,
    error: Option<(String, String)>,
    provider_id: Option<&str>,
) -> Result<Option<MessageRecord>, JobError> {
    let mut status_changed = false;
    state
        .store
        .update_delivery(message_id, state.clock.now_ms(), |current| {
            let update = update_for(
                current,
                Report {
                    status: incoming,
                    error,
                    provider_id,
                },
            );
            status_changed = update.as_ref().is_some_and(|u| u.status.is_some());
            update
        })
        .await
        .inspect(|changed| {
            if let Some(message) = changed.as_ref().filter(|_| status_changed) {
                crate::messages::delivery::count_status(message);
            }
        })
        .map_err(|e| JobError::Retry {
            message: e.to_string(),
            retry_after_ms: None,
        })
}
