//! Voice: calls sent (`send`: consent, number, caller id, narrations
//! personalised; the call row written with the message), driven through
//! recado-core's call machine (`engine`), dialled and acted on by their
//! provider (`jobs`, `sandbox`), narrations heard before any call is made
//! (`preview`), and the mapping of the pure definitions' refusals to the
//! API's `invalid_voice`.

pub mod asterisk;
pub mod engine;
pub mod jobs;
pub mod media;
pub mod preview;
pub mod reconcile;
pub mod sandbox;
pub mod send;
pub mod twiml;
pub mod simulator;

use recado_core::voice::definition::Invalid;

/// A voice or IVR definition's refusal as the API reports it.
pub fn refusal(invalid: Invalid) -> crate::AppError {
    crate::AppError::invalid("invalid_voice", invalid.field, invalid.message)
}

/// What the timeline adds to a call's `VOICE_DELIVERED` entry once the call
/// is over: how long the contact was on the line and how many attempts it
/// took, by message id.
pub async fn call_facts(
    state: &crate::AppState,
    workspace_id: &str,
    message_ids: &[&str],
) -> crate::AppResult<std::collections::HashMap<String, serde_json::Value>> {
    let calls = state.store.calls_of_messages(workspace_id, message_ids).await?;
    Ok(calls
        .into_iter()
        .filter_map(|c| {
            let (Some(from), Some(to)) = (c.answered_at, c.ended_at) else {
                return None;
            };
            let facts = serde_json::json!({"duration_s": (to - from).max(0) / 1000, "attempts": c.attempt});
            Some((c.message_id, facts))
        })
        .collect())
}
