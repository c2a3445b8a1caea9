//! Workflows: `/api/v1/workflows` (drafts, versions, lifecycle, enrolment,
//! runs, the action log, performance, simulation) and the signed trigger
//! `POST /hooks/workflows/{id}`. Rules live in `recado_app::workflows`.

pub mod hook;
pub mod routes;
pub mod views;

pub use hook::hook_routes;
pub use routes::routes;
