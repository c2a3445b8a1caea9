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
use serde::Deserialize;
use serde_json::Value;

pub fn routes() -> Router<AppState> {
    Router::new().route("/voice/preview", post(preview))
}

#[derive(Deserialize, utoipa::ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    /// `{"kind": "tts", "language": "pt-BR", "voice"?: "female"|"male", "text": "…"}`.
    #[schema(value_type = Object)]
    pub narration: Value,
    /// The contact whose properties fill the `{{contact.*}}` tokens.
    pub contact_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/voice/preview", request_body = PreviewInput,
    responses((status = 200, content_type = "audio/wav", description = "the narration, 8 kHz mono WAV"),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn preview(State(state): State<AppState>, caller: Caller, ApiJson(input): ApiJson<PreviewInput>) -> ApiResult<Response> {
    let wav = recado_app::voice::preview::preview(
        &state,
        &caller.workspace_id,
        &input.narration,
        input.contact_id.as_deref(),
    )
    .await?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], wav).into_response())
}
