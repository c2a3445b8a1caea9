//! What an SMS will cost before it is sent: the SMS engine's analysis with
//! the limits checked, shared by `POST /api/v1/sms/analyze` and `recado sms
//! analyze`.

use crate::{AppError, AppResult};
use recado_sms::{analyze as analyze_text, Analysis, AnalyzeError, AnalyzeOptions, NationalLanguage, Policy};
use serde::Deserialize;

/// What to analyse, and under which policy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisRequest {
    pub text: String,
    /// `transliterate` (default) or `auto`.
    pub policy: Option<Policy>,
    /// `pt`, `es` or `tr`; none by default.
    pub national_language: Option<NationalLanguage>,
    /// Most parts a message may use (default 5, at most 255).
    pub max_segments: Option<u32>,
}

/// Encoding, parts, units, replaced and UCS-2 characters of the text: 422
/// `invalid_max_segments` or `empty_text`.
pub fn analyze(request: &AnalysisRequest) -> AppResult<Analysis> {
    let max_segments = request.max_segments.unwrap_or(recado_sms::DEFAULT_MAX_SEGMENTS);
    if max_segments == 0 || max_segments > 255 {
        return Err(AppError::invalid(
            "invalid_max_segments",
            "max_segments",
            "max_segments is between 1 and 255",
        ));
    }
    let options = AnalyzeOptions {
        policy: request.policy.unwrap_or_default(),
        national_language: request.national_language,
        max_segments,
    };
    analyze_text(&request.text, &options).map_err(|e| match e {
        AnalyzeError::EmptyText => AppError::invalid("empty_text", "text", "the text is empty"),
    })
}
