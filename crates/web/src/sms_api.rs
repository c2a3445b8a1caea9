//! `POST /api/v1/sms/analyze`: what an SMS will cost before it is sent.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use axum::routing::post;
use axum::{Json, Router};
use recado_app::sms::analysis::{self, AnalysisRequest};
use recado_app::AppState;
use recado_sms::{Analysis, NationalLanguage, Policy};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/sms/analyze", post(analyze))
}

#[derive(Deserialize, utoipa::ToSchema, Debug)]
#[serde(deny_unknown_fields)]
/// The request body; see [`AnalysisRequest`].
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

#[utoipa::path(post, path = "/api/v1/sms/analyze", request_body = AnalyzeInput,
    responses((status = 200, description = "encoding, segments, units, replaced and UCS-2 characters"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn analyze(_caller: Caller, ApiJson(input): ApiJson<AnalyzeInput>) -> ApiResult<Json<Analysis>> {
    let request = AnalysisRequest {
        text: input.text,
        policy: input.policy,
        national_language: input.national_language,
        max_segments: input.max_segments,
    };
    Ok(Json(analysis::analyze(&request)?))
}
