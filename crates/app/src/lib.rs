//! Recado's services, job handlers and workers: the hub without HTTP. The web
//! crate maps what happens here to the API's status codes and pages; nothing
//! here knows about them.

pub mod error;
pub mod settings;

pub use error::{AppError, AppResult, ErrorKind};
pub use settings::{PasswordCost, Secret, Settings};
