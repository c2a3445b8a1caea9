//! Voice: narrations heard before any call is made (the preview), and the
//! mapping of the pure definitions' refusals to the API's `invalid_voice`.

pub mod preview;

use recado_core::voice::definition::Invalid;

/// A voice or IVR definition's refusal as the API reports it.
pub fn refusal(invalid: Invalid) -> crate::AppError {
    crate::AppError::invalid("invalid_voice", invalid.field, invalid.message)
}
