//! The API's error contract: `{"error": {"code", "message", "field"}}` with a
//! stable snake_case code. Internal errors are logged once with their cause and
//! shown to clients only as `internal`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use recado_app::{AppError, ErrorKind};
use recado_store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Whether the hub failed (5xx) rather than refused what was asked.
    /// The body this error is answered with.
    pub fn into_body(self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                field: self.field,
            },
        }
    }

    pub fn is_internal(&self) -> bool {
        self.status.is_server_error()
    }

    // The common refusals are the domain's own, passed through the one mapping.

    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::malformed(message).into()
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid API token is required (Authorization: Bearer <token>)",
        )
    }

    pub fn forbidden() -> Self {
        AppError::forbidden().into()
    }

    pub fn not_found(what: &str) -> Self {
        AppError::not_found(what).into()
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::conflict(code, message).into()
    }

    pub fn invalid(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::invalid(code, field, message).into()
    }

    /// Logs the cause and returns the opaque 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::internal(cause).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl From<AppError> for ApiError {
    /// The one mapping from the domain's failures to the API's statuses.
    fn from(e: AppError) -> Self {
        let status = match e.kind {
            ErrorKind::Malformed => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::TooMany => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Upstream => StatusCode::BAD_GATEWAY,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            code: e.code,
            message: e.message,
            field: e.field,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        (status, Json(self.into_body())).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
