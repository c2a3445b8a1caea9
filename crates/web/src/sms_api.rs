//! `POST /api/v1/sms/analyze`: what an SMS will cost before it is sent.

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use axum::routing::post;
use axum::{Json, Router};
use recado_sms::{analyze as analyze_text, Analysis, AnalyzeError, AnalyzeOptions, NationalLanguage, Policy};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/sms/analyze", post(analyze))
}

#[derive(Deserialize, utoipa::ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeInput {
    pub text: String,
    /// `transliterate` (default) or `auto`.
    #[schema(value_type = Option<String>)]
    pub policy: Option<Policy>,
    /// `pt`, `es` or `tr`; `null` for none.
    #[schema(value_type = Option<String>)]
    pub national_language: Option<NationalLanguage>,
    /// Most parts a message may use (default 5).
    pub max_segments: Option<u32>,
}

/// Runs the SMS engine on `input` (shared by the API and `recado sms analyze`).
pub fn run(input: &AnalyzeInput) -> Result<Analysis, ApiError> {
    let max_segments = input.max_segments.unwrap_or(recado_sms::DEFAULT_MAX_SEGMENTS);
    if max_segments == 0 || max_segments > 255 {
        return Err(ApiError::invalid(
            "invalid_max_segments",
            "max_segments",
            "max_segments is between 1 and 255",
        ));
    }
    let options = AnalyzeOptions {
        policy: input.policy.unwrap_or_default(),
        national_language: input.national_language,
        max_segments,
    };
    analyze_text(&input.text, &options).map_err(|e| match e {
        AnalyzeError::EmptyText => ApiError::invalid("empty_text", "text", "the text is empty"),
    })
}

#[utoipa::path(post, path = "/api/v1/sms/analyze", request_body = AnalyzeInput,
    responses((status = 200, description = "encoding, segments, units, replaced and UCS-2 characters"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn analyze(_caller: Caller, ApiJson(input): ApiJson<AnalyzeInput>) -> ApiResult<Json<Analysis>> {
    Ok(Json(run(&input)?))
}
