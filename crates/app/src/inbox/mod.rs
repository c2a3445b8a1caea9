//! The help desk's threads and tickets: listing by view, search, replies.

pub mod filters;
pub mod service;
