use super::ContactView;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{page, ListBody};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use recado_app::contacts::service::contacts_for;
use recado_app::contacts::service::{check_properties, phone_search_suffixes};
use recado_app::AppState;
use recado_store::contacts::ContactQuery;
use recado_store::workspaces::Workspace;
use serde::Deserialize;
use serde_json::{Map, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/contacts", post(create_contact).get(list_contacts))
        .route("/contacts/import", post(super::import::import_csv))
        .route(
            "/contacts/{id}",
            get(get_contact).patch(update_contact).delete(delete_contact),
        )
        .route("/contacts/{id}/timeline", get(timeline))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"properties": {"firstname": "Ana", "phone": "+55 11 91234-5678", "country": "BR"}}))]
pub struct ContactInput {
    /// Property name → value (string, number, boolean; `null` or an empty
    /// text clears on update).
    #[schema(schema_with = property_changes)]
    pub properties: Map<String, Value>,
}

/// Property names are `[a-z0-9_]{1,64}`; values are kept as text.
/// `country`, `mobile_prefix`, `email` and the phone properties are checked
/// further (422 `invalid_property`, `invalid_phone`).
fn property_changes() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(serde_json::json!({
        "type": "object",
        "propertyNames": {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"},
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
    }))
}

pub async fn workspace_of(state: &AppState, caller: &Caller) -> ApiResult<Workspace> {
    if let Some(ws) = state.caches.workspaces.get(&caller.workspace_id) {
        return Ok(ws);
    }
    let ws = state.store.workspace(&caller.workspace_id).await?;
    state.caches.workspaces.put(&caller.workspace_id, ws.clone());
    Ok(ws)
}

#[utoipa::path(post, path = "/api/v1/contacts", request_body = ContactInput,
    responses((status = 201, description = "the contact", body = ContactView),
        (status = 422, description = "`invalid_property` (a name or value; `field` is the property), `invalid_phone` (a phone property that does not read as a number, `field` is the property)", body = crate::error::ErrorBody)))]
pub async fn create_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ContactInput>,
) -> ApiResult<(StatusCode, Json<ContactView>)> {
    let changes = check_properties(&input.properties)?;
    let ws = workspace_of(&state, &caller).await?;
    let contact = contacts_for(&state, &ws).create(changes).await?;
    Ok((StatusCode::CREATED, Json(contact.into())))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", params(("id" = String, Path, description = "the contact's id")),
    responses((status = 200, description = "the contact", body = ContactView)))]
pub async fn get_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ContactView>> {
    let ws = workspace_of(&state, &caller).await?;
    Ok(Json(contacts_for(&state, &ws).get(&id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/contacts/{id}", params(("id" = String, Path, description = "the contact's id")), request_body = ContactInput,
    responses((status = 200, description = "the contact", body = ContactView),
        (status = 422, description = "`invalid_property`, `invalid_phone` (`field` is the property)", body = crate::error::ErrorBody)))]
pub async fn update_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ContactInput>,
) -> ApiResult<Json<ContactView>> {
    let changes = check_properties(&input.properties)?;
    let ws = workspace_of(&state, &caller).await?;
    let contacts = contacts_for(&state, &ws);
    let existing = contacts.get(&id).await?;
    Ok(Json(contacts.update(existing, changes).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/contacts/{id}", params(("id" = String, Path, description = "the contact's id")),
    responses((status = 204, description = "the contact and everything about them are erased")))]
pub async fn delete_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .erase_contact(&caller.workspace_id, &id, state.clock.now_ms())
        .await
        .map_err(|e| match e {
            recado_store::StoreError::NotFound => ApiError::not_found("contact"),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Words of names and other property values, or a phone number in any written form.
    q: Option<String>,
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `?q=` matches names and other property values, or — when it looks like a
/// phone number in any written form — every phone property.
#[utoipa::path(get, path = "/api/v1/contacts", params(ListQuery),
    responses((status = 200, description = "contacts, newest first", body = ListBody<ContactView>)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ListBody<ContactView>>> {
    let limit = recado_store::clamp_limit(q.limit);
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let mut query = ContactQuery {
        before_id: q.cursor.clone(),
        limit,
        ..Default::default()
    };
    match text.and_then(phone_search_suffixes) {
        Some(suffixes) => query.phone_suffixes = suffixes,
        None => query.text = text.map(str::to_string),
    }
    let rows = state.store.list_contacts(&caller.workspace_id, &query).await?;
    Ok(Json(page(rows, limit, |c| &c.id, ContactView::from)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    #[serde(rename = "type")]
    kind: String,
    at: String,
    message_id: Option<String>,
    campaign: Option<String>,
    sender: Option<String>,
    /// What the event carries besides (reason, key pressed, workflow…).
    details: Value,
}

/// Everything that happened to a contact, newest first.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/timeline", params(("id" = String, Path, description = "the contact's id"), TimelineQuery),
    responses((status = 200, description = "events, newest first", body = ListBody<TimelineEntry>)))]
pub async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TimelineQuery>,
) -> ApiResult<Json<ListBody<TimelineEntry>>> {
    let ws = workspace_of(&state, &caller).await?;
    contacts_for(&state, &ws).get(&id).await?;
    let limit = recado_store::clamp_limit(q.limit);
    let rows = state.store.timeline(&ws.id, &id, q.cursor.as_deref(), limit).await?;
    let answered: Vec<&str> = rows
        .iter()
        .filter(|e| e.kind == "VOICE_DELIVERED")
        .filter_map(|e| e.message_id.as_deref())
        .collect();
    let calls = recado_app::voice::call_facts(&state, &ws.id, &answered).await?;
    Ok(Json(page(
        rows,
        limit,
        |e| &e.id,
        |e| {
            let mut details = serde_json::from_str(&e.details).unwrap_or(Value::Null);
            // An answered call's entry tells how long it lasted, once over.
            if let (Some(Value::Object(extra)), Value::Object(map)) = (
                e.message_id
                    .as_ref()
                    .filter(|_| e.kind == "VOICE_DELIVERED")
                    .and_then(|m| calls.get(m)),
                &mut details,
            ) {
                map.extend(extra.clone());
            }
            TimelineEntry {
                kind: e.kind,
                at: recado_core::clock::to_rfc3339(e.at),
                message_id: e.message_id,
                campaign: e.campaign,
                sender: e.sender,
                details,
            }
        },
    )))
}
