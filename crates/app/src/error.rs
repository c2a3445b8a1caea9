//! What went wrong in a service, in the domain's words: the kind of failure,
//! a stable snake_case code, a message for people and the field it concerns.
//! The web crate maps kinds to HTTP statuses; jobs decide from the kind
//! whether another attempt can succeed.

use recado_store::StoreError;

/// The kind of failure, independent of any transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request cannot be read at all.
    Malformed,
    /// No valid credentials.
    Unauthenticated,
    /// The caller's role may not do this.
    Forbidden,
    NotFound,
    /// The request conflicts with the state of things (a refused send, a
    /// taken e-mail, an idempotency key in use).
    Conflict,
    /// A value is not acceptable.
    Invalid,
    TooLarge,
    UnsupportedMedia,
    /// Slow down.
    TooMany,
    /// A provider answered with an error (its message is passed on).
    Upstream,
    /// A fault of the hub or its database: worth another attempt later.
    Internal,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            kind,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Malformed, "bad_request", message)
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorKind::Forbidden, "forbidden", "your role may not do this")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", format!("{what} not found"))
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    pub fn invalid(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, message).with_field(field)
    }

    /// Logs the cause and returns an opaque internal error.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorKind::Internal, "internal", "internal error")
    }

    /// Whether the failure is the hub's own (another attempt may succeed), as
    /// opposed to a refusal of what was asked.
    pub fn is_internal(&self) -> bool {
        self.kind == ErrorKind::Internal
    }
}

impl From<recado_core::properties::Refusal> for AppError {
    fn from(r: recado_core::properties::Refusal) -> Self {
        AppError::invalid(r.code, r.field, r.message)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found("record"),
            StoreError::Conflict(what) if what == recado_store::workspaces::LAST_ADMIN => {
                AppError::conflict("last_admin", what)
            }
            StoreError::Conflict(what) => AppError::conflict("conflict", what),
            other => AppError::internal(other),
        }
    }
}
