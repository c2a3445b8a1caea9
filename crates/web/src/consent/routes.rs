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
    #[schema(schema_with = subscription_status)]
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

fn subscription_status() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(
        serde_json::json!({"type": "string", "enum": ["subscribed", "unsubscribed", "not_specified"]}),
    )
}

/// The subscriptions of a contact, one per channel.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SubscriptionsView {
    whatsapp: SubscriptionView,
    sms: SubscriptionView,
    voice: SubscriptionView,
}

/// The `{channel}` of a subscription path.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ChannelName {
    Whatsapp,
    Sms,
    Voice,
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

#[utoipa::path(get, path = "/api/v1/contacts/{id}/subscriptions", params(("id" = String, Path, description = "the contact's id")),
    responses((status = 200, description = "the contact's subscription on each channel", body = SubscriptionsView)))]
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

/// The body of `PUT …/subscriptions/{channel}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    pub status: String,
    pub legal_basis: Option<String>,
    pub explanation: Option<String>,
}

/// Subscribing takes a legal basis and an explanation: the schema says so
/// with the two shapes a change can have.
/// `others` are the body's other members (all required).
fn change_schema(
    others: serde_json::Value,
    explanation: serde_json::Value,
) -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    use serde_json::json;
    let mut required = vec!["status".to_string()];
    required.extend(others.as_object().into_iter().flat_map(|o| o.keys().cloned()));
    let mut properties = others;
    properties.as_object_mut().expect("members").extend(
        json!({
            "status": {"type": "string", "enum": ["subscribed", "unsubscribed"]},
            "legal_basis": {"type": ["string", "null"], "enum": ["consent", "legitimate_interest_prospect", "legitimate_interest_client", "legitimate_interest_other", "contract", "not_applicable", "", null],
                "description": "Required (with `explanation`) to subscribe; an empty text is none."},
            "explanation": {"type": ["string", "null"],
                "description": "Why the contact may be messaged; required to subscribe."},
        })
        .as_object()
        .expect("members")
        .clone(),
    );
    crate::openapi::schema(json!({"allOf": [
        {"type": "object", "additionalProperties": false, "required": required, "properties": properties},
        {"anyOf": [
            {"type": "object", "properties": {"status": {"type": "string", "enum": ["unsubscribed"]}}},
            {"type": "object", "required": ["legal_basis", "explanation"], "properties": {
                "status": {"type": "string", "enum": ["subscribed"]},
                "legal_basis": {"type": "string", "enum": ["consent", "legitimate_interest_prospect", "legitimate_interest_client", "legitimate_interest_other", "contract", "not_applicable"]},
                "explanation": explanation}}]}]}))
}

impl utoipa::PartialSchema for SubscriptionInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        change_schema(
            serde_json::json!({}),
            serde_json::json!({"type": "string", "pattern": "\\S"}),
        )
    }
}

impl utoipa::ToSchema for SubscriptionInput {}

fn parse_request(channel: Channel, input: &SubscriptionInput, source: ConsentSource) -> ApiResult<ChangeRequest> {
    Ok(request_of(
        channel,
        &input.status,
        input.legal_basis.as_deref(),
        input.explanation.clone(),
        source,
    )?)
}

#[utoipa::path(put, path = "/api/v1/contacts/{id}/subscriptions/{channel}",
    params(("id" = String, Path, description = "the contact's id"), ("channel" = ChannelName, Path)),
    request_body = SubscriptionInput,
    responses((status = 200, description = "the new state", body = SubscriptionView),
        (status = 409, description = "`resubscribe_not_allowed`: the contact opted out by keyword", body = crate::error::ErrorBody),
        (status = 422, description = "`legal_basis_required` (subscribing without legal basis and explanation), `no_whatsapp_phone`, `invalid_status`, `invalid_legal_basis`, `invalid_channel`", body = crate::error::ErrorBody)))]
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
    #[schema(schema_with = subscription_status)]
    status: String,
    legal_basis: Option<String>,
    explanation: Option<String>,
    source: String,
    actor: String,
    at: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}/subscriptions/{channel}/history",
    params(("id" = String, Path, description = "the contact's id"), ("channel" = ChannelName, Path), HistoryQuery),
    responses((status = 200, description = "changes, newest first", body = ListBody<HistoryView>),
        (status = 422, description = "`invalid_channel`", body = crate::error::ErrorBody)))]
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

/// The body of `POST /api/v1/subscriptions/bulk`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    pub contact_ids: Vec<String>,
    pub channel: String,
    pub status: String,
    pub legal_basis: Option<String>,
    pub explanation: Option<String>,
}

impl utoipa::PartialSchema for BulkInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        change_schema(
            serde_json::json!({
                "contact_ids": {"type": "array", "items": {"type": "string"}, "maxItems": 10000},
                "channel": {"type": "string", "enum": ["whatsapp", "sms", "voice"]},
            }),
            // A bulk change needs an explanation with words in it.
            serde_json::json!({"type": "string", "pattern": "\\S"}),
        )
    }
}

impl utoipa::ToSchema for BulkInput {}

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

#[utoipa::path(post, path = "/api/v1/subscriptions/bulk", request_body = BulkInput,
    responses((status = 200, description = "how many changed, and each contact that could not with the refusal's code", body = BulkReport),
        (status = 422, description = "`invalid_channel`, `invalid_status`, `invalid_legal_basis`, `legal_basis_required`, `too_many_contacts`", body = crate::error::ErrorBody)))]
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
