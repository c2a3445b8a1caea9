//! The SMS channel: text composition (tokens, links, unsubscribe URL),
//! signed unsubscribe tokens.

pub mod compose;
pub mod unsubscribe;
