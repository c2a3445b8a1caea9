//! `POST /api/v1/messages` and `GET /api/v1/messages/{id}`: one entry point
//! for every channel, with idempotency keys (`crate::idempotency`).

pub use recado_app::messages::delivery;
pub mod routes;
pub use recado_app::messages::send_job;
pub mod view;

pub use routes::routes;
