//! The simulated WhatsApp account (`whatsapp_sandbox`): approved templates to
//! try, outbound messages that become delivered then read, and inbound
//! messages injected through the same path as a signed webhook.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use recado_app::sandbox::{simulate_inbound, Simulated, SimulatedInbound};
use recado_app::AppState;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedMessageInput {
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
/// The injected message: the hub's id (SMS) or the provider's (WhatsApp).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Injected {
    message_id: Option<String>,
    provider_message_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/channels/{id}/simulate", params(("id" = String, Path, description = "a sandbox channel's id")),
    request_body = SimulatedMessageInput,
    responses((status = 202, description = "the message went through the intake", body = Injected),
        (status = 409, description = "`not_a_sandbox`: only the WhatsApp and SMS sandboxes simulate inbound messages", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_phone`, `empty_text`, `invalid_sender`", body = crate::error::ErrorBody)))]
pub async fn simulate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SimulatedMessageInput>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let input = SimulatedInbound {
        from: input.from,
        name: input.name,
        text: input.text,
        to: input.to,
        policy_violation: input.policy_violation,
    };
    let reply = match simulate_inbound(&state, &caller.workspace_id, &id, input).await? {
        Simulated::Sms { message_id } => json!({ "message_id": message_id }),
        Simulated::WhatsApp { provider_message_id } => json!({ "provider_message_id": provider_message_id }),
    };
    Ok((StatusCode::ACCEPTED, Json(reply)))
}
