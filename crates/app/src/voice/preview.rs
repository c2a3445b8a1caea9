//! `POST /api/v1/voice/preview`: a narration as the contact would hear it,
//! tokens filled from the contact's properties, rendered as the call would
//! play it (8 kHz WAV, from the same cache).

use crate::{AppError, AppResult, AppState};
use recado_channels::voice::speech::{Speech, SpeechError};
use recado_core::tokens::fill_tokens;
use recado_core::voice::definition::{parse_narration, Narration};
use serde_json::Value;

/// The renderer of this hub: its cache lives in the data directory.
pub fn speech(state: &AppState) -> Speech {
    Speech::new(state.settings.data_dir.join("speech"))
}

/// The WAV bytes of `narration` for `contact_id` (or with every token left
/// empty when no contact is named).
pub async fn preview(
    state: &AppState,
    workspace_id: &str,
    narration: &Value,
    contact_id: Option<&str>,
) -> AppResult<Vec<u8>> {
    let narration = parse_narration(narration, "narration").map_err(super::refusal)?;
    let properties = match contact_id {
        Some(id) => state.store.contact(workspace_id, id).await?.properties,
        None => Default::default(),
    };
    let Narration::Tts { text, .. } = &narration else {
        return Err(AppError::invalid(
            "invalid_voice",
            "narration.kind",
            "an audio narration is heard at its own URL; previews speak text",
        ));
    };
    let voice = narration
        .espeak_voice()
        .ok_or_else(|| AppError::invalid("invalid_voice", "narration.language", "no voice speaks this language"))?;
    let spoken = fill_tokens(text, |name| properties.get(name).cloned());
    let path = speech(state).render(&voice, &spoken).await.map_err(speech_failure)?;
    tokio::fs::read(path).await.map_err(AppError::internal)
}

fn speech_failure(e: SpeechError) -> AppError {
    AppError::internal(format!("speech rendering: {e}"))
}
