//! `POST /api/v1/messages` and `GET /api/v1/messages/{id}`: one entry point
//! for every channel, with idempotency keys (`crate::idempotency`).

pub mod routes;
pub mod view;

pub use routes::routes;
