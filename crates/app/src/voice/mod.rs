//! Voice: calls sent (`send`: consent, number, caller id, narrations
//! personalised; the call row written with the message), driven through
//! recado-core's call machine (`engine`), dialled and acted on by their
//! provider (`jobs`, `sandbox`), narrations heard before any call is made
//! (`preview`), and the mapping of the pure definitions' refusals to the
//! API's `invalid_voice`.

pub mod engine;
pub mod jobs;
pub mod media;
pub mod preview;
pub mod sandbox;
pub mod send;
pub mod simulator;

use recado_core::voice::definition::Invalid;

/// A voice or IVR definition's refusal as the API reports it.
pub fn refusal(invalid: Invalid) -> crate::AppError {
    crate::AppError::invalid("invalid_voice", invalid.field, invalid.message)
}
