use crate::auth::Caller;
use crate::contacts::routes::workspace_of;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{page, ListBody};
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use recado_app::consent::service::{change, change_many, request_of};
use recado_app::contacts::service::contacts_for;
use recado_app::AppState;
use recado_core::consent::{ChangeRequest, Channel, ConsentSource};
use recado_store::consent::{not_specified_record, SubscriptionRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/contacts/{id}/subscriptions", get(get_subscriptions))
        .route("/contacts/{id}/subscriptions/{channel}", put(put_subscription))
        .route("/contacts/{id}/subscriptions/{channel}/history", get(history))
        .route("/subscriptions/bulk", post(bulk))
        .merge(super::keywords::routes())
}

/// One channel's subscription as the API shows it.
#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct SubscriptionView {
    pub status: String,
    pub legal_basis: Option<String>,
    pub explanation: Option<String>,
    pub source: Option<String>,
    pub updated_at: Option<String>,
}

impl From<SubscriptionRecord> for SubscriptionView {
    fn from(r: SubscriptionRecord) -> Self {
        let set = r.updated_at > 0;
        SubscriptionView {
            status: r.status,
            legal_basis: r.legal_basis,
            explanation: r.explanation,
            source: set.then_some(r.source),
            updated_at: set.then(|| recado_core::clock::to_rfc3339(r.updated_at)),
        }
    }
}

pub fn parse_channel(s: &str) -> ApiResult<Channel> {
    s.parse().map_err(|_| {
        ApiError::invalid(
            "invalid_channel",
            "channel",
            format!("`{s}` is not a channel (whatsapp, sms, voice)"),
        )
    })
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}/subscriptions", responses((status = 200, description = "whatsapp, sms and voice")))]
pub async fn get_subscriptions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<BTreeMap<&'static str, SubscriptionView>>> {
    let ws = workspace_of(&state, &caller).await?;
    contacts_for(&state, &ws).get(&id).await?;
    let stored = state.store.subscriptions(&ws.id, &id).await?;
    let mut out = BTreeMap::new();
    for channel in Channel::ALL {
        let record = stored
            .iter()
            .find(|r| r.channel == channel.as_str())
            .cloned()
            .unwrap_or_else(|| not_specified_record(channel));
        out.insert(channel.as_str(), record.into());
    }
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// `subscribed` or `unsubscribed`.
    pub status: String,
    pub legal_basis: Option<String>,
    pub explanation: Option<String>,
}

fn parse_request(channel: Channel, input: &SubscriptionInput, source: ConsentSource) -> ApiResult<ChangeRequest> {
    Ok(request_of(
        channel,
        &input.status,
        input.legal_basis.as_deref(),
        input.explanation.clone(),
        source,
    )?)
}

#[utoipa::path(put, path = "/api/v1/contacts/{id}/subscriptions/{channel}", request_body = SubscriptionInput,
    responses((status = 200, body = SubscriptionView), (status = 422, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn put_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, channel)): Path<(String, String)>,
    ApiJson(input): ApiJson<SubscriptionInput>,
) -> ApiResult<Json<SubscriptionView>> {
    let channel = parse_channel(&channel)?;
    let request = parse_request(channel, &input, ConsentSource::Manual)?;
    let ws = workspace_of(&state, &caller).await?;
    let contact = contacts_for(&state, &ws).get(&id).await?;
    let outcome = change(&state.store, &contact, &request, &caller.user_id, state.clock.now_ms()).await?;
    Ok(Json(outcome.record().clone().into()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    status: String,
    legal_basis: Option<String>,
    explanation: Option<String>,
    source: String,
    actor: String,
    at: String,
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}/subscriptions/{channel}/history", responses((status = 200)))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, channel)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<ListBody<HistoryView>>> {
    let channel = parse_channel(&channel)?;
    let ws = workspace_of(&state, &caller).await?;
    contacts_for(&state, &ws).get(&id).await?;
    let limit = recado_store::clamp_limit(q.limit);
    let rows = state
        .store
        .subscription_history(&ws.id, &id, channel, q.cursor.as_deref(), limit)
        .await?;
    Ok(Json(page(
        rows,
        limit,
        |h| &h.id,
        |h| HistoryView {
            status: h.status,
            legal_basis: h.legal_basis,
            explanation: h.explanation,
            source: h.source,
            actor: h.actor,
            at: recado_core::clock::to_rfc3339(h.at),
        },
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    pub contact_ids: Vec<String>,
    pub channel: String,
    pub status: String,
    pub legal_basis: Option<String>,
    pub explanation: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct BulkReport {
    updated: u64,
    failed: Vec<BulkFailure>,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct BulkFailure {
    contact_id: String,
    code: String,
}

#[utoipa::path(post, path = "/api/v1/subscriptions/bulk", request_body = BulkInput, responses((status = 200, body = BulkReport)))]
pub async fn bulk(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<BulkInput>,
) -> ApiResult<Json<BulkReport>> {
    let channel = parse_channel(&input.channel)?;
    let request = request_of(
        channel,
        &input.status,
        input.legal_basis.as_deref(),
        input.explanation.clone(),
        ConsentSource::Bulk,
    )?;
    let ws = workspace_of(&state, &caller).await?;
    let contacts = contacts_for(&state, &ws);
    let outcome = change_many(
        &contacts,
        &state.store,
        &input.contact_ids,
        &request,
        &caller.user_id,
        state.clock.now_ms(),
    )
    .await?;
    let report = BulkReport {
        updated: outcome.updated,
        failed: outcome
            .failed
            .into_iter()
            .map(|(contact_id, code)| BulkFailure {
                contact_id,
                code: code.to_string(),
            })
            .collect(),
    };
    Ok(Json(report))
}
