//! `POST /api/v1/voice/preview`: a narration as a contact would hear it;
//! `POST /api/v1/voice/simulate`: one step of an IVR call played through the
//! call machine without dialling, storing or sending anything.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use recado_app::AppState;
use recado_core::voice::definition::{LANGUAGES, MAX_NARRATION_CHARS};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/voice/preview", post(preview))
        .route("/voice/simulate", post(simulate_call))
}

/// What voice providers fetch without a token: the narrations rendered for
/// calls, by their unguessable key.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/voice/media/{file}", axum::routing::get(media))
}

/// `GET /voice/media/{key}.wav`: a rendered narration (404 for anything else).
async fn media(State(state): State<AppState>, axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let found = file
        .strip_suffix(".wav")
        .and_then(|key| recado_app::voice::media::media_file(&state, key));
    let Some(path) = found else {
        return crate::error::ApiError::not_found("narration").into_response();
    };
    match tokio::fs::read(path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "audio/wav"),
                (header::CACHE_CONTROL, "public, max-age=86400, immutable"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => crate::error::ApiError::not_found("narration").into_response(),
    }
}

#[derive(Deserialize, utoipa::ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    /// `{"kind": "tts", "language": "pt-BR", "voice"?: "female"|"male", "text": "…"}`
    /// (a recorded narration is heard at its own URL).
    #[schema(schema_with = spoken_narration)]
    pub narration: Value,
    /// The contact whose properties fill the `{{contact.*}}` tokens.
    pub contact_id: Option<String>,
}

/// A spoken narration as the hub checks it: a known language, a text of at
/// most 1,000 characters with something to say (the characters excluded are
/// those Rust's `trim` removes).
fn spoken_narration() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    let languages: Vec<&str> = LANGUAGES.iter().map(|(tag, _)| *tag).collect();
    crate::openapi::schema(json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["kind", "language", "text"],
        "properties": {
            "kind": {"type": "string", "enum": ["tts"]},
            "language": {"type": "string", "enum": languages},
            "voice": {"type": ["string", "null"], "enum": ["female", "male", null]},
            "text": {
                "type": "string",
                "maxLength": MAX_NARRATION_CHARS,
                "pattern": "[^\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]"
            }
        }
    }))
}

#[utoipa::path(post, path = "/api/v1/voice/preview", request_body = PreviewInput,
    responses((status = 200, content_type = "audio/wav", description = "the narration, 8 kHz mono WAV"),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<PreviewInput>,
) -> ApiResult<Response> {
    let wav = recado_app::voice::preview::preview(
        &state,
        &caller.workspace_id,
        &input.narration,
        input.contact_id.as_deref(),
    )
    .await?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], wav).into_response())
}

#[derive(Deserialize, utoipa::ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct SimulateInput {
    /// The IVR definition to try (API.md "Voice"); or `voice` for a voice
    /// message, one of the two.
    #[schema(schema_with = optional_object)]
    pub ivr: Option<Value>,
    #[schema(schema_with = optional_object)]
    pub voice: Option<Value>,
    /// `answer` (starts a new call), a key `0`–`9`, `*` or `#`, `silence`
    /// (the menu's no-input timeout) or `hangup`.
    #[schema(schema_with = press_schema)]
    pub press: String,
    /// The `call` the previous step returned; absent before the answer.
    #[schema(schema_with = optional_object)]
    pub call: Option<Value>,
    /// The contact whose properties fill the narrations' tokens and whose
    /// number an SMS key would go to.
    pub contact_id: Option<String>,
}

fn optional_object() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(json!({"type": ["object", "null"]}))
}

fn press_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(json!({
        "type": "string",
        "enum": ["answer", "silence", "hangup", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]
    }))
}

/// What one step did: the timeline events it would record, the narrations
/// played (with their audio URL), what the hub would do, the hang-up.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SimulatedView {
    /// The call's state: send it back with the next step.
    #[schema(value_type = Object)]
    call: Value,
    #[schema(schema_with = entries_schema)]
    entries: Vec<Value>,
    /// The menu waits for a key.
    listening: bool,
    /// The call is over.
    ended: bool,
}

fn entries_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(json!({
        "type": "array",
        "items": {
            "type": "object",
            "required": ["kind"],
            "properties": {
                "kind": {"type": "string", "enum": ["event", "play", "would", "hang_up"]},
                "event": {"type": "string", "description": "`VOICE_SENT`, `VOICE_DELIVERED`, `VOICE_KEY_PRESSED`, `VOICE_UNSUBSCRIBED` …"},
                "details": {"type": "object"},
                "what": {"type": "string"},
                "text": {"type": "string"},
                "audio_url": {"type": ["string", "null"]}
            }
        }
    }))
}

#[utoipa::path(post, path = "/api/v1/voice/simulate", request_body = SimulateInput,
    responses((status = 200, description = "the step: events, narrations, actions", body = SimulatedView),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn simulate_call(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<SimulateInput>,
) -> ApiResult<axum::Json<Value>> {
    use recado_app::voice::simulator::{content_of, step, Press};
    use recado_app::AppError;
    let content = content_of(input.ivr.as_ref(), input.voice.as_ref())?;
    let press = Press::parse(&input.press).ok_or_else(|| {
        AppError::invalid(
            "invalid_press",
            "press",
            "press `answer`, a key 0–9, * or #, `silence` or `hangup`",
        )
    })?;
    let call = match input.call {
        None | Some(Value::Null) => None,
        Some(v) => Some(serde_json::from_value(v).map_err(|e| {
            AppError::invalid(
                "invalid_call",
                "call",
                format!("send back the `call` a step returned: {e}"),
            )
        })?),
    };
    let (properties, to) = match input.contact_id.as_deref() {
        Some(id) => {
            let ws = state.store.workspace(&caller.workspace_id).await?;
            let contact = recado_app::contacts::service::contacts_for(&state, &ws).get(id).await?;
            let to = recado_app::voice::send::number_of(&ws, &contact, &Default::default());
            (contact.properties, to)
        }
        None => (Default::default(), None),
    };
    let simulated = step(&state, &content, &properties, to.as_deref(), call, press).await?;
    Ok(axum::Json(serde_json::to_value(simulated).map_err(AppError::internal)?))
}
