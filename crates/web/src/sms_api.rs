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
#[schema(example = json!({"text": "Promoção válida até amanhã"}))]
/// The request body; see [`AnalysisRequest`].
pub struct AnalyzeInput {
    /// Not empty.
    #[schema(min_length = 1)]
    pub text: String,
    /// `transliterate` (default) or `auto`.
    #[schema(schema_with = policy)]
    pub policy: Option<Policy>,
    /// `pt`, `es` or `tr`; `null` for none.
    #[schema(schema_with = national_language)]
    pub national_language: Option<NationalLanguage>,
    /// Most parts a message may use (default 5).
    #[schema(minimum = 1, maximum = 255)]
    pub max_segments: Option<u32>,
}

pub fn policy() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(serde_json::json!({"type": ["string", "null"], "enum": ["transliterate", "auto", null]}))
}

pub fn national_language() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(serde_json::json!({"type": ["string", "null"], "enum": ["pt", "es", "tr", null]}))
}

/// One character replaced by transliteration.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ReplacementView {
    from: String,
    to: String,
}

/// What a text costs and what will be sent (`recado_sms::Analysis`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AnalysisView {
    #[schema(schema_with = encoding)]
    encoding: String,
    /// Number of SMS parts; 1 when the message fits one SMS.
    segments: u32,
    /// Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2.
    units: u32,
    units_per_segment: u32,
    remaining_in_segment: u32,
    /// The text that will be sent.
    text: String,
    replaced: Vec<ReplacementView>,
    /// Characters that forced UCS-2.
    ucs2_chars: Vec<String>,
    #[schema(schema_with = national_language)]
    national_language: Option<String>,
    exceeds_max_segments: bool,
}

fn encoding() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(serde_json::json!({"type": "string", "enum": ["GSM-7", "UCS-2"]}))
}

#[utoipa::path(post, path = "/api/v1/sms/analyze", request_body = AnalyzeInput,
    responses((status = 200, description = "encoding, segments, units, replaced and UCS-2 characters", body = AnalysisView),
        (status = 422, description = "`empty_text`, `invalid_max_segments`", body = crate::error::ErrorBody)))]
pub async fn analyze(_caller: Caller, ApiJson(input): ApiJson<AnalyzeInput>) -> ApiResult<Json<Analysis>> {
    let request = AnalysisRequest {
        text: input.text,
        policy: input.policy,
        national_language: input.national_language,
        max_segments: input.max_segments,
    };
    Ok(Json(analysis::analyze(&request)?))
}
