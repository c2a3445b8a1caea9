//! `POST /api/v1/voice/preview`: a narration as a contact would hear it.

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
    Router::new().route("/voice/preview", post(preview))
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
