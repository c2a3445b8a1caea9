//! Signed unsubscribe tokens: the signing rule lives in core
//! ([`recado_core::unsubscribe_token`]); the key comes from the hub's secrets.

pub use recado_core::unsubscribe_token::*;
