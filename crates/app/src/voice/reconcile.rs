//! Calls whose dial a crash may have interrupted: the attempt was claimed
//! (so it is never dialled blindly again) but no answer of the provider was
//! recorded. Each node looks for them every minute and asks the call's
//! provider what it knows; whatever it cannot learn, the call's own timer
//! ends with a final event.

use crate::channels::registry::load_voice;
use crate::channels::voice_config::VoiceProviderSettings;
use crate::{AppResult, AppState};

/// A dial younger than this is left to finish.
pub const LOOK_AFTER_MS: i64 = 30_000;
/// Most calls looked at per pass.
const PER_PASS: i64 = 200;

/// One pass; returns how many calls were looked at.
pub async fn run(state: &AppState) -> AppResult<usize> {
    let before = state.clock.now_ms() - LOOK_AFTER_MS;
    let calls = state.store.calls_dialled_without_answer(before, PER_PASS).await?;
    let mut looked = 0;
    for call in calls {
        let Ok(channel) = load_voice(state, &call.workspace_id, &call.channel_id).await else {
            continue;
        };
        let done = match &channel.voice.provider {
            VoiceProviderSettings::Sandbox(s) => super::sandbox::reconcile(state, &call, s.ring_ms).await,
            VoiceProviderSettings::Asterisk(_) | VoiceProviderSettings::Http(_) => continue,
        };
        looked += 1;
        if let Err(e) = done {
            tracing::warn!(message_id = %call.message_id, error = %e, "could not reconcile a call");
        }
    }
    Ok(looked)
}
