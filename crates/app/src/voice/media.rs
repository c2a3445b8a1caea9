//! Narrations as providers fetch them: a spoken narration is rendered on the
//! box (espeak-ng, 8 kHz WAV, cached by a hash of voice, rate and text) and
//! served at `{public_url}/voice/media/{key}.wav`; a recorded one is played
//! from its own URL. The key is 128 bits of a SHA-256, so a URL cannot be guessed from
//! the words of another call.

use super::preview::speech;
use crate::{AppError, AppResult, AppState};
use recado_channels::voice::speech::{cache_key, TELEPHONE_RATE};
use recado_core::voice::definition::Narration;
use std::path::PathBuf;

/// The URL a provider plays `narration` from, rendered first when spoken.
pub async fn narration_url(state: &AppState, narration: &Narration) -> AppResult<String> {
    match narration {
        Narration::Audio { url } => Ok(url.clone()),
        Narration::Tts { text, .. } => {
            let voice = narration
                .espeak_voice()
                .ok_or_else(|| AppError::internal("a stored narration names no voice"))?;
            speech(state)
                .render(&voice, text)
                .await
                .map_err(|e| AppError::internal(format!("speech rendering: {e}")))?;
            Ok(format!(
                "{}/voice/media/{}.wav",
                state.settings.public_url,
                cache_key(&voice, TELEPHONE_RATE, text)
            ))
        }
    }
}

/// The rendered file of `key` (32 hex digits), if there is one.
pub fn media_file(state: &AppState, key: &str) -> Option<PathBuf> {
    let is_key = key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_key {
        return None;
    }
    let path = state.settings.data_dir.join("speech").join(format!("{key}.wav"));
    path.is_file().then_some(path)
}
