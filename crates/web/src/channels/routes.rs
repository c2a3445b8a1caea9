use super::config::{ChannelKind, WhatsAppChannel};
use super::sms_config::{SmsChannel, SmsKind};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
pub use recado_app::channels::registry::*;
use recado_core::ids::{new_id, IdKind};
use recado_store::channels::{ChannelNumber, ChannelRecord};
use recado_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/channels", post(create_channel).get(list_channels))
        .route(
            "/channels/{id}",
            get(get_channel).patch(update_channel).delete(delete_channel),
        )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    kind: String,
    name: String,
    #[schema(value_type = Object)]
    #[serde(default)]
    config: Map<String, Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    name: Option<String>,
    #[schema(value_type = Option<Object>)]
    config: Option<Map<String, Value>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChannelView {
    id: String,
    kind: String,
    name: String,
    /// Where the provider must send its webhooks.
    webhook_url: String,
    /// The token Meta's verification handshake must present.
    #[serde(skip_serializing_if = "Option::is_none")]
    verify_token_hint: Option<String>,
    #[schema(value_type = Object)]
    config: Value,
    created_at: String,
    /// Set when the stored settings can no longer be read (e.g. written by an
    /// older version that accepted less): PATCH the named setting to repair.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    error: Option<Value>,
}

fn sms_view(state: &AppState, c: &LoadedSms) -> ChannelView {
    ChannelView {
        id: c.record.id.clone(),
        kind: c.record.kind.clone(),
        name: c.record.name.clone(),
        webhook_url: format!("{}/webhooks/sms/{}", state.settings.public_url, c.record.id),
        verify_token_hint: None,
        config: c.sms.public_config(),
        created_at: recado_core::clock::to_rfc3339(c.record.created_at),
        error: None,
    }
}

/// The view of any stored channel. A channel whose stored settings cannot be
/// read is still shown, with its stored public settings and the error, so one
/// such channel never hides the others and the admin can repair it.
fn any_view(state: &AppState, record: ChannelRecord) -> ChannelView {
    let decoded = if SmsKind::parse(&record.kind).is_some() {
        decode_sms(state, record.clone()).map(|c| sms_view(state, &c))
    } else {
        decode(state, record.clone()).map(|c| view(state, &c))
    };
    decoded.unwrap_or_else(|e| ChannelView {
        id: record.id.clone(),
        kind: record.kind.clone(),
        name: record.name.clone(),
        webhook_url: format!(
            "{}/webhooks/{}/{}",
            state.settings.public_url,
            channel_family(&record.kind),
            record.id
        ),
        verify_token_hint: None,
        config: serde_json::from_str(&record.config).unwrap_or(Value::Null),
        created_at: recado_core::clock::to_rfc3339(record.created_at),
        error: Some(serde_json::json!({
            "code": "unreadable_config",
            "message": e.message,
            "field": e.field,
        })),
    })
}

/// `whatsapp`, `sms` or `voice`: the first word of a channel kind.
fn channel_family(kind: &str) -> &str {
    kind.split('_').next().unwrap_or(kind)
}

fn view(state: &AppState, c: &LoadedChannel) -> ChannelView {
    let webhook_url = format!("{}/webhooks/whatsapp/{}", state.settings.public_url, c.record.id);
    ChannelView {
        id: c.record.id.clone(),
        kind: c.record.kind.clone(),
        name: c.record.name.clone(),
        webhook_url,
        verify_token_hint: None,
        config: c.whatsapp.public_config(),
        created_at: recado_core::clock::to_rfc3339(c.record.created_at),
        error: None,
    }
}

fn numbers(channel_id: &str, w: &WhatsAppChannel) -> Vec<ChannelNumber> {
    w.phone_numbers
        .iter()
        .map(|n| ChannelNumber {
            channel_id: channel_id.to_string(),
            phone_number_id: n.phone_number_id.clone(),
            display_phone_number: n.display_phone_number.clone(),
        })
        .collect()
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "invalid_name",
            "name",
            "channel names are 1 to 100 characters",
        ));
    }
    Ok(name.to_string())
}

#[utoipa::path(post, path = "/api/v1/channels", request_body = ChannelInput, responses((status = 201, body = ChannelView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ChannelInput>,
) -> ApiResult<(StatusCode, Json<ChannelView>)> {
    caller.require_admin()?;
    let name = check_name(&input.name)?;
    let now = state.clock.now_ms();
    if let Some(kind) = SmsKind::parse(&input.kind) {
        let sms = SmsChannel::from_input(kind, &input.config, None)?;
        let record = ChannelRecord {
            id: new_id(IdKind::Channel),
            workspace_id: caller.workspace_id.clone(),
            kind: kind.as_str().to_string(),
            name,
            config: sms.public_config().to_string(),
            secrets: state.secrets.seal(&sms.secrets()),
            created_at: now,
            updated_at: now,
        };
        state.store.insert_channel(&record, &[]).await?;
        let loaded = LoadedSms { record, sms };
        crate::sms::providers::channel_changed(&state, &loaded).await;
        return Ok((StatusCode::CREATED, Json(sms_view(&state, &loaded))));
    }
    let kind = ChannelKind::parse(&input.kind).ok_or_else(|| {
        ApiError::invalid(
            "invalid_kind",
            "kind",
            format!("`{}` is not a channel kind this hub offers (whatsapp_cloud, whatsapp_360dialog, whatsapp_sandbox, sms_sandbox, sms_http, sms_smpp)", input.kind),
        )
    })?;
    let whatsapp = WhatsAppChannel::from_input(kind, &input.config, None)?;
    let record = ChannelRecord {
        id: new_id(IdKind::Channel),
        workspace_id: caller.workspace_id.clone(),
        kind: kind.as_str().to_string(),
        name,
        config: whatsapp.public_config().to_string(),
        secrets: state.secrets.seal(&whatsapp.secrets()),
        created_at: now,
        updated_at: now,
    };
    state
        .store
        .insert_channel(&record, &numbers(&record.id, &whatsapp))
        .await?;
    let loaded = LoadedChannel { record, whatsapp };
    if kind == ChannelKind::WhatsappSandbox {
        crate::whatsapp::sandbox::seed_templates(&state, &loaded).await?;
    } else {
        crate::whatsapp::templates::schedule_periodic_sync(&state, &caller.workspace_id).await?;
    }
    let mut body = view(&state, &loaded);
    // Shown once so the admin can paste it into Meta's dashboard.
    body.verify_token_hint = Some(loaded.whatsapp.verify_token.clone());
    Ok((StatusCode::CREATED, Json(body)))
}

#[utoipa::path(get, path = "/api/v1/channels", responses((status = 200)))]
pub async fn list_channels(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let mut items = Vec::new();
    for record in state.store.channels(&caller.workspace_id, None).await? {
        items.push(any_view(&state, record));
    }
    Ok(Json(serde_json::json!({ "items": items, "next_cursor": null })))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", responses((status = 200, body = ChannelView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ChannelView>> {
    caller.require_admin()?;
    let record = stored(&state, &caller.workspace_id, &id).await?;
    Ok(Json(any_view(&state, record)))
}

#[utoipa::path(patch, path = "/api/v1/channels/{id}", request_body = ChannelPatch, responses((status = 200, body = ChannelView)))]
pub async fn update_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ChannelPatch>,
) -> ApiResult<Json<ChannelView>> {
    caller.require_admin()?;
    let stored = stored(&state, &caller.workspace_id, &id).await?;
    if SmsKind::parse(&stored.kind).is_some() {
        let current = decode_sms(&state, stored)?;
        let name = match &input.name {
            Some(n) => check_name(n)?,
            None => current.record.name.clone(),
        };
        let sms = SmsChannel::from_input(current.sms.kind, &input.config.unwrap_or_default(), Some(&current.sms))?;
        let record = ChannelRecord {
            name,
            config: sms.public_config().to_string(),
            secrets: state.secrets.seal(&sms.secrets()),
            updated_at: state.clock.now_ms(),
            ..current.record
        };
        state.store.update_channel(&record, &[]).await?;
        let loaded = LoadedSms { record, sms };
        crate::sms::providers::channel_changed(&state, &loaded).await;
        return Ok(Json(sms_view(&state, &loaded)));
    }
    // The update is read over the stored settings as they are, not as they
    // decode, so a channel whose stored settings became unreadable can be
    // repaired by sending the missing or wrong setting.
    let kind = ChannelKind::parse(&stored.kind).ok_or_else(|| ApiError::not_found("channel"))?;
    let (config, secrets) = settings_of(&state, &stored)?;
    let mut merged = config.as_object().cloned().unwrap_or_default();
    for (k, v) in secrets.as_object().cloned().unwrap_or_default() {
        merged.insert(k, v);
    }
    for (k, v) in input.config.unwrap_or_default() {
        merged.insert(k, v);
    }
    let name = match &input.name {
        Some(n) => check_name(n)?,
        None => stored.name.clone(),
    };
    let whatsapp = WhatsAppChannel::from_input(kind, &merged, None)?;
    let record = ChannelRecord {
        name,
        config: whatsapp.public_config().to_string(),
        secrets: state.secrets.seal(&whatsapp.secrets()),
        updated_at: state.clock.now_ms(),
        ..stored
    };
    state
        .store
        .update_channel(&record, &numbers(&record.id, &whatsapp))
        .await?;
    state.channel_cache.forget(&record.id);
    Ok(Json(view(&state, &LoadedChannel { record, whatsapp })))
}

#[utoipa::path(delete, path = "/api/v1/channels/{id}", responses((status = 204)))]
pub async fn delete_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    state
        .store
        .delete_channel(&caller.workspace_id, &id, state.clock.now_ms())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("channel"),
            other => other.into(),
        })?;
    state.channel_cache.forget(&id);
    Ok(StatusCode::NO_CONTENT)
}
