//! Consent: subscriptions per channel with their history, bulk changes,
//! keywords (built-in and per workspace).

pub mod keywords;
pub mod routes;

pub use routes::routes;
