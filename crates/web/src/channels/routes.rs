use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::list::ListBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use recado_app::channels::admin::{self, Connected};
use recado_app::channels::registry::{decode, decode_sms, decode_voice, stored, LoadedChannel, LoadedSms, LoadedVoice};
use recado_app::channels::{SmsKind, VoiceKind};
use recado_app::AppState;
use recado_store::channels::ChannelRecord;
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
#[schema(example = json!({"kind": "sms_sandbox", "name": "SMS", "config": {"senders": ["Recado"]}}))]
pub struct ChannelInput {
    #[schema(schema_with = channel_kind)]
    kind: String,
    /// 1 to 100 characters.
    #[schema(pattern = "\\S", max_length = 100)]
    name: String,
    /// The kind's settings (API.md "Channels"); secrets are kept sealed and never shown.
    #[schema(value_type = Object)]
    #[serde(default)]
    config: Map<String, Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    /// 1 to 100 characters.
    #[schema(pattern = "\\S", max_length = 100)]
    name: Option<String>,
    /// Settings to change; the others keep their values.
    #[schema(value_type = Option<Object>)]
    config: Option<Map<String, Value>>,
}

fn channel_kind() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(serde_json::json!({"type": "string", "enum": [
        "whatsapp_cloud", "whatsapp_360dialog", "whatsapp_sandbox", "sms_sandbox", "sms_http", "sms_smpp",
        "voice_sandbox", "voice_asterisk", "voice_http"]}))
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

fn voice_view(state: &AppState, c: &LoadedVoice) -> ChannelView {
    ChannelView {
        id: c.record.id.clone(),
        kind: c.record.kind.clone(),
        name: c.record.name.clone(),
        webhook_url: format!("{}/webhooks/voice/{}", state.settings.public_url, c.record.id),
        verify_token_hint: None,
        config: c.voice.public_config(),
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
    } else if VoiceKind::parse(&record.kind).is_some() {
        decode_voice(state, record.clone()).map(|c| voice_view(state, &c))
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

#[utoipa::path(post, path = "/api/v1/channels", request_body = ChannelInput,
    responses((status = 201, description = "the channel (a WhatsApp channel's verify token shown once)", body = ChannelView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_kind`, `invalid_name`, `invalid_config` (`field` names the setting)", body = crate::error::ErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ChannelInput>,
) -> ApiResult<(StatusCode, Json<ChannelView>)> {
    caller.require_admin()?;
    let connected = admin::create(&state, &caller.workspace_id, &input.kind, &input.name, &input.config).await?;
    let body = match connected {
        Connected::Sms(loaded) => sms_view(&state, &loaded),
        Connected::Voice(loaded) => voice_view(&state, &loaded),
        Connected::WhatsApp(loaded) => {
            let mut body = view(&state, &loaded);
            // Shown once so the admin can paste it into Meta's dashboard.
            body.verify_token_hint = Some(loaded.whatsapp.verify_token.clone());
            body
        }
    };
    Ok((StatusCode::CREATED, Json(body)))
}

#[utoipa::path(get, path = "/api/v1/channels", responses((status = 200, description = "the workspace's channels", body = ListBody<ChannelView>)))]
pub async fn list_channels(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ListBody<ChannelView>>> {
    let mut items = Vec::new();
    for record in state.store.channels(&caller.workspace_id, None).await? {
        items.push(any_view(&state, record));
    }
    Ok(Json(ListBody {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", params(("id" = String, Path, description = "the channel's id")),
    responses((status = 200, description = "the channel", body = ChannelView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody)))]
pub async fn get_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ChannelView>> {
    caller.require_admin()?;
    let record = stored(&state, &caller.workspace_id, &id).await?;
    Ok(Json(any_view(&state, record)))
}

#[utoipa::path(patch, path = "/api/v1/channels/{id}", params(("id" = String, Path, description = "the channel's id")), request_body = ChannelPatch,
    responses((status = 200, description = "the channel", body = ChannelView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_config` (`field` names the setting)", body = crate::error::ErrorBody)))]
pub async fn update_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ChannelPatch>,
) -> ApiResult<Json<ChannelView>> {
    caller.require_admin()?;
    let config = input.config.unwrap_or_default();
    let changed = admin::update(&state, &caller.workspace_id, &id, input.name.as_deref(), config).await?;
    Ok(Json(match changed {
        Connected::Sms(loaded) => sms_view(&state, &loaded),
        Connected::Voice(loaded) => voice_view(&state, &loaded),
        Connected::WhatsApp(loaded) => view(&state, &loaded),
    }))
}

#[utoipa::path(delete, path = "/api/v1/channels/{id}", params(("id" = String, Path, description = "the channel's id")),
    responses((status = 204, description = "the channel is gone"), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody)))]
pub async fn delete_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    admin::delete(&state, &caller.workspace_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
