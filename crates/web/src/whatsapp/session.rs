//! Sending on WhatsApp. `prepare` applies every rule before anything is
//! stored (session window, consent, template approval and parameters, the
//! monthly conversation limit and the tier cap); the message is then stored
//! with its send job, and `send_job` talks to the provider.

use crate::auth::Caller;
use crate::contacts::routes::workspace_of;
use crate::error::ApiResult;
use axum::extract::{Path, State};
use axum::Json;
use recado_app::contacts::service::contacts_for;
use recado_app::AppState;
use recado_core::whatsapp::SessionWindow;
use serde_json::json;

/// The customer-service window of a contact.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SessionState {
    open: bool,
    /// When the window closes; `null` when closed.
    expires_at: Option<String>,
}

/// `GET /api/v1/contacts/{id}/whatsapp/session`.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/whatsapp/session", params(("id" = String, Path, description = "the contact's id")),
    responses((status = 200, description = "whether the 24-hour customer-service window is open", body = SessionState)))]
pub async fn get_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let ws = workspace_of(&state, &caller).await?;
    contacts_for(&state, &ws).get(&id).await?;
    let last = state.store.latest_inbound_at(&ws.id, &id, "whatsapp").await?;
    let window = SessionWindow {
        last_inbound_at_ms: last,
    };
    let now = state.clock.now_ms();
    let open = window.is_open(now);
    Ok(Json(json!({
        "open": open,
        "expires_at": if open { window.expires_at_ms().map(recado_core::clock::to_rfc3339) } else { None },
    })))
}
