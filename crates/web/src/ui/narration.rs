//! A narration as form fields (kind, language, voice, text or audio URL),
//! shared by the workflow editor's voice steps, the contact page's voice
//! message and the simulator; and the Listen button every one of them has:
//! `POST /voice/listen` renders the narration as a call would play it, the
//! `{{contact.*}}` tokens filled from the contact when one is named (left
//! empty otherwise).
//!
//! The button posts its own form (`listen` names the narration's field
//! prefix), so it works without scripts: the WAV opens in a new tab. With
//! scripts the page asks for JSON and plays the narration in place.

use super::page::{Opt, UiResult};
use super::session::Posted;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use recado_app::voice::media::narration_url;
use recado_app::AppState;
use recado_core::tokens::fill_tokens;
use recado_core::voice::definition::{parse_narration, Narration, LANGUAGES};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The language a new narration starts with.
pub const DEFAULT_LANGUAGE: &str = "pt-BR";

#[derive(Clone, Debug, Default)]
pub struct NarrationForm {
    /// The fields' name prefix (`s2.v.keys.3.narration`).
    pub prefix: String,
    /// `tts` or `audio`.
    pub kind: String,
    pub language: String,
    /// Empty (the engine's default), `female` or `male`.
    pub voice: String,
    pub text: String,
    pub url: String,
    /// A refusal about this narration, shown next to it.
    pub error: Option<String>,
    pub languages: Vec<Opt>,
}

impl NarrationForm {
    /// An empty narration (spoken, in the default language).
    pub fn blank() -> NarrationForm {
        NarrationForm {
            kind: "tts".into(),
            language: DEFAULT_LANGUAGE.into(),
            ..Default::default()
        }
    }

    /// The form of a narration's JSON (absent: blank).
    pub fn from_value(v: Option<&Value>) -> NarrationForm {
        let Some(v) = v.filter(|v| v.is_object()) else {
            return NarrationForm::blank();
        };
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        NarrationForm {
            kind: if s("kind") == "audio" {
                "audio".into()
            } else {
                "tts".into()
            },
            language: s("language"),
            voice: s("voice"),
            text: s("text"),
            url: s("url"),
            ..Default::default()
        }
    }

    /// Reads the fields `{prefix}.kind`, `.language`, `.voice`, `.text`, `.url`.
    pub fn from_fields(fields: &[(String, String)], prefix: &str) -> NarrationForm {
        let get = |name: &str| {
            let key = format!("{prefix}.{name}");
            fields
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        NarrationForm {
            prefix: prefix.to_string(),
            kind: get("kind"),
            language: get("language"),
            voice: get("voice"),
            text: get("text"),
            url: get("url"),
            ..Default::default()
        }
    }

    /// Whether nothing was written (no words, no URL).
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty() && self.url.trim().is_empty()
    }

    /// The narration's JSON as API.md writes it; None when nothing was
    /// written. What cannot be right is passed on for the one parser to
    /// refuse by its field.
    pub fn to_value(&self) -> Option<Value> {
        if self.is_empty() {
            return None;
        }
        let mut o = Map::new();
        if self.kind == "audio" {
            o.insert("kind".into(), "audio".into());
            o.insert("url".into(), self.url.trim().into());
        } else {
            o.insert("kind".into(), "tts".into());
            o.insert("language".into(), self.language.trim().into());
            if !self.voice.is_empty() {
                o.insert("voice".into(), self.voice.clone().into());
            }
            o.insert("text".into(), self.text.clone().into());
        }
        Some(Value::Object(o))
    }

    /// Sets the prefix and the language choices before the form is drawn.
    pub fn prepare(&mut self, prefix: String) {
        self.prefix = prefix;
        if self.kind.is_empty() {
            self.kind = "tts".into();
        }
        if self.language.is_empty() {
            self.language = DEFAULT_LANGUAGE.into();
        }
        self.languages = language_opts(&self.language);
    }

    pub fn is_audio(&self) -> bool {
        self.kind == "audio"
    }
}

/// The speech languages as options, `selected` chosen (kept when unknown,
/// so the refusal can name it).
pub fn language_opts(selected: &str) -> Vec<Opt> {
    let mut out: Vec<Opt> = LANGUAGES
        .iter()
        .map(|(tag, _)| Opt {
            value: tag.to_string(),
            label: tag.to_string(),
            selected: *tag == selected,
        })
        .collect();
    if !selected.is_empty() && !out.iter().any(|o| o.selected) {
        out.push(Opt {
            value: selected.to_string(),
            label: selected.to_string(),
            selected: true,
        });
    }
    out
}

/// A page-relative address of a narration rendered by the hub (the
/// browser plays it from the page's own origin); recordings keep theirs.
pub fn local_media_url(state: &AppState, url: &str) -> String {
    match url.strip_prefix(state.settings.public_url.trim_end_matches('/')) {
        Some(path) if path.starts_with("/voice/media/") => path.to_string(),
        _ => url.to_string(),
    }
}

/// A narration as it would play for a contact: tokens filled from
/// `properties` (an empty map leaves them empty), rendered, and the
/// address to play it from.
pub async fn rendered_url(
    state: &AppState,
    narration: &Narration,
    properties: &std::collections::BTreeMap<String, String>,
) -> recado_app::AppResult<(String, String)> {
    let filled = match narration {
        Narration::Tts { language, voice, text } => Narration::Tts {
            language: language.clone(),
            voice: *voice,
            text: fill_tokens(text, |name| properties.get(name).cloned()),
        },
        audio => audio.clone(),
    };
    let url = narration_url(state, &filled).await?;
    let words = match &filled {
        Narration::Tts { text, .. } => text.clone(),
        Narration::Audio { url } => url.clone(),
    };
    Ok((local_media_url(state, &url), words))
}

#[derive(Deserialize)]
pub struct AnyFields {}

/// `POST /voice/listen`: the narration whose fields start with the posted
/// `listen` prefix (`narration` by default), for the contact `listen_contact`
/// if given. JSON `{url, text}` when asked for JSON, else a redirect to the
/// audio; a refusal names its field.
pub async fn listen(
    State(state): State<AppState>,
    headers: HeaderMap,
    posted: Posted<AnyFields>,
) -> UiResult<Response> {
    let field = |k: &str| {
        posted
            .fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let prefix = Some(field("listen"))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "narration".into());
    let form = NarrationForm::from_fields(&posted.fields, &prefix);
    let refuse = |field: String, message: String| -> Response {
        if wants_json {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"field": field, "message": message})),
            )
                .into_response()
        } else {
            super::page::error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Nothing to listen to",
                &format!("{field}: {message}"),
            )
        }
    };
    let Some(value) = form.to_value() else {
        return Ok(refuse(
            "narration.text".into(),
            "write what the contact hears first".into(),
        ));
    };
    let narration = match parse_narration(&value, "narration") {
        Ok(n) => n,
        Err(e) => return Ok(refuse(e.field, e.message)),
    };
    let ws = posted.user.workspace_id();
    let contact = field("listen_contact");
    let properties = if contact.is_empty() {
        Default::default()
    } else {
        state.store.contact(ws, &contact).await?.properties
    };
    let (url, words) = rendered_url(&state, &narration, &properties).await?;
    if wants_json {
        return Ok(Json(json!({"url": url, "text": words})).into_response());
    }
    Ok(Redirect::to(&url).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_narration_reads_back_the_same_through_its_fields() {
        for v in [
            json!({"kind": "tts", "language": "pt-BR", "text": "Olá {{contact.firstname}}"}),
            json!({"kind": "tts", "language": "es", "voice": "female", "text": "Hola"}),
            json!({"kind": "audio", "url": "https://example.com/a.wav"}),
        ] {
            assert_eq!(NarrationForm::from_value(Some(&v)).to_value(), Some(v));
        }
    }

    #[test]
    fn an_empty_narration_is_none() {
        assert_eq!(NarrationForm::blank().to_value(), None);
    }
}
