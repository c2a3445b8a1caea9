//! Calls a crash may have left without news. Each node looks for them every
//! minute and asks the call's provider what it knows; whatever it cannot
//! learn, the call's own timer ends with a final event.
//!
//! - A dial interrupted between its claim and the provider's answer (the
//!   attempt was claimed, so it is never dialled blindly again): the sandbox
//!   knows from its log whether it dialled. A Twilio-style provider's
//!   callbacks name the hub's own call, so they settle it when they come.
//! - A call the provider took whose final report was lost (it came while no
//!   node was listening): a Twilio-style provider's record of the call, read
//!   by its id, says how it ended.

use crate::channels::registry::load_voice;
use crate::channels::voice_config::VoiceProviderSettings;
use crate::{AppResult, AppState};

/// A dial younger than this is left to finish.
pub const LOOK_AFTER_MS: i64 = 30_000;
/// A call the provider took, silent for this long, is asked about.
pub const SILENT_AFTER_MS: i64 = 2 * 60_000;
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
    let silent_since = state.clock.now_ms() - SILENT_AFTER_MS;
    for call in state.store.calls_placed_without_news(silent_since, PER_PASS).await? {
        let Ok(channel) = load_voice(state, &call.workspace_id, &call.channel_id).await else {
            continue;
        };
        // Asterisk's calls are followed by the node holding its application,
        // which reads the channels back when it connects; the sandbox's end
        // on their own.
        let VoiceProviderSettings::Http(settings) = &channel.voice.provider else {
            continue;
        };
        looked += 1;
        if let Err(e) = super::twiml::reconcile(state, &call, settings).await {
            tracing::warn!(message_id = %call.message_id, error = %e, "could not reconcile a call");
        }
    }
    Ok(looked)
}
