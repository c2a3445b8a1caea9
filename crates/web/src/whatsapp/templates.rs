//! Templates: synced from the provider on demand and periodically, updated by
//! the template-status webhook, listed for the composer.

use crate::auth::Caller;
use crate::error::ApiResult;
use axum::extract::State;
use axum::Json;
use recado_app::channels::registry::decode;
use recado_app::whatsapp::templates::sync_channel;
use recado_app::AppState;
use serde_json::json;

/// How many templates a sync read.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Synced {
    synced: u64,
}

/// A template of a WhatsApp channel.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TemplateView {
    id: String,
    channel_id: String,
    name: String,
    language: String,
    category: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, …
    status: String,
    /// The template's components as Meta describes them.
    components: Vec<serde_json::Value>,
    /// The variables to fill, per component.
    variables: serde_json::Value,
    updated_at: String,
}

/// The templates.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TemplateList {
    items: Vec<TemplateView>,
    /// Always `null`: every template is listed.
    next_cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/whatsapp/templates/sync",
    responses((status = 200, description = "templates read from the providers", body = Synced), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 502, description = "a provider did not answer as it should", body = crate::error::ErrorBody)))]
pub async fn sync_templates(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<serde_json::Value>> {
    caller.require_admin()?;
    let mut total = 0;
    for record in state.store.channels(&caller.workspace_id, Some("whatsapp")).await? {
        total += sync_channel(&state, &decode(&state, record)?).await?;
    }
    Ok(Json(json!({ "synced": total })))
}

#[utoipa::path(get, path = "/api/v1/whatsapp/templates", responses((status = 200, description = "the workspace's templates", body = TemplateList)))]
pub async fn list_templates(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<serde_json::Value>> {
    let rows = state.store.templates(&caller.workspace_id, None).await?;
    let items: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|t| {
            let definition = recado_app::whatsapp::send::template_of(&t);
            json!({
                "id": t.id,
                "channel_id": t.channel_id,
                "name": t.name,
                "language": t.language,
                "category": t.category,
                "status": t.status,
                "components": definition.components,
                "variables": definition.variables(),
                "updated_at": recado_core::clock::to_rfc3339(t.updated_at),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}
