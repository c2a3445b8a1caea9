//! The simulated WhatsApp account (`whatsapp_sandbox`): approved templates to
//! try, outbound messages that become delivered then read, and inbound
//! messages injected through the same path as a signed webhook.

use crate::app::AppState;
use crate::auth::Caller;
use crate::channels::routes::load;
use crate::channels::ChannelKind;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
pub use recado_app::whatsapp::sandbox::*;
use recado_core::ids::{new_id, IdKind};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateInput {
    /// The contact's number in E.164.
    pub from: String,
    pub name: Option<String>,
    pub text: String,
    /// The hub-side number written to: a `phone_number_id` of a WhatsApp
    /// sandbox, one of the senders of an SMS sandbox (default: the first
    /// number, the default sender).
    pub to: Option<String>,
    /// Marks the message as flagged by WhatsApp's content policy.
    #[serde(default)]
    policy_violation: bool,
}

/// Injects an inbound text message into a sandbox account: the body is built
/// and signed like Meta's and goes through the webhook intake.
#[utoipa::path(post, path = "/api/v1/channels/{id}/simulate", request_body = SimulateInput, responses((status = 202, description = "{message_id (provider id)}")))]
pub async fn simulate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SimulateInput>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let record = state
        .store
        .channel(&caller.workspace_id, &id)
        .await
        .map_err(|e| match e {
            recado_store::StoreError::NotFound => ApiError::not_found("channel"),
            other => other.into(),
        })?;
    if record.kind == "sms_sandbox" {
        return crate::sms::sandbox::simulate(&state, record, &input.from, input.to.as_deref(), &input.text).await;
    }
    let channel = load(&state, &caller.workspace_id, &id).await?;
    if channel.whatsapp.kind != ChannelKind::WhatsappSandbox {
        return Err(ApiError::conflict(
            "not_a_sandbox",
            "only sandbox channels (whatsapp_sandbox, sms_sandbox) simulate inbound messages",
        ));
    }
    let from = recado_core::phone::normalize(&input.from, &Default::default())
        .map_err(|e| ApiError::invalid("invalid_phone", "from", e.to_string()))?;
    if input.text.trim().is_empty() {
        return Err(ApiError::invalid("empty_text", "text", "the text is empty"));
    }
    let number = match input.to.as_deref() {
        None => &channel.whatsapp.phone_numbers[0],
        Some(to) => channel
            .whatsapp
            .phone_numbers
            .iter()
            .find(|n| n.phone_number_id == to)
            .ok_or_else(|| {
                ApiError::invalid(
                    "invalid_sender",
                    "to",
                    format!("`{to}` is not a phone_number_id of this account"),
                )
            })?,
    };
    let wamid = format!("wamid.sim.{}", new_id(IdKind::Message));
    let mut message = json!({
        "from": from.trim_start_matches('+'),
        "id": wamid,
        "timestamp": (state.clock.now_ms() / 1000).to_string(),
        "type": "text",
        "text": { "body": input.text },
    });
    if input.policy_violation {
        message["errors"] = json!([{ "code": 368, "title": "Temporarily blocked for policies violations", "message": "content policy" }]);
    }
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": channel.whatsapp.waba_id.clone().unwrap_or_else(|| "sandbox-waba".into()),
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": number.display_phone_number, "phone_number_id": number.phone_number_id },
                    "contacts": [{ "profile": { "name": input.name.unwrap_or_default() }, "wa_id": from.trim_start_matches('+') }],
                    "messages": [message],
                }
            }]
        }]
    });
    let raw = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    super::webhook::ingest(&state, &channel, &raw).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "provider_message_id": wamid }))))
}
