//! The sandbox SMS network's inbound side: a simulated reply from a contact
//! goes through the same processing as a provider's inbound webhook.

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use axum::http::StatusCode;
use axum::Json;
use recado_store::channels::ChannelRecord;

pub async fn simulate(
    state: &AppState,
    record: ChannelRecord,
    from: &str,
    to: Option<&str>,
    text: &str,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let channel = crate::channels::routes::decode_sms(state, record)?;
    if text.trim().is_empty() {
        return Err(ApiError::invalid("empty_text", "text", "the text is empty"));
    }
    let to = match to {
        Some(asked) => channel
            .sms
            .pick_sender(Some(asked))
            .map_err(|e| ApiError::from(e).with_field("to"))?,
        None => channel.sms.default_sender.clone().unwrap_or_else(|| "sandbox".into()),
    };
    let id = super::inbound::receive(
        state,
        &channel,
        super::inbound::InboundSms {
            from,
            to: &to,
            text,
            provider_message_id: None,
        },
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "message_id": id }))))
}
