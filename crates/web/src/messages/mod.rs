//! `POST /api/v1/messages` and `GET /api/v1/messages/{id}`: one entry point
//! for every channel, with idempotency keys.

pub mod delivery;
pub mod routes;
pub mod send_job;
pub mod view;

pub use routes::routes;
