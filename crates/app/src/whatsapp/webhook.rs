//! `GET|POST /webhooks/whatsapp/{channel_id}`: Meta's verification handshake,
//! and signed deliveries stored raw before the 200, processed by a job.

use crate::channels::registry::LoadedChannel;
use crate::error::{AppError, AppResult};
use crate::webhook_writer::OwnedWebhook;
use crate::AppState;
use recado_core::ids::{new_id, IdKind};
use recado_core::jobs::Task;
use sha2::{Digest, Sha256};

/// Stores an authentic delivery (once, however often it is delivered) and
/// enqueues its processing. Shared by the webhook route and the sandbox.
pub async fn ingest(state: &AppState, channel: &LoadedChannel, body: &[u8]) -> AppResult<bool> {
    let text = std::str::from_utf8(body).map_err(|_| AppError::malformed("the body must be UTF-8 JSON"))?;
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
        return Err(AppError::malformed("the body is not valid JSON"));
    }
    let digest = hex::encode(Sha256::digest(body));
    let id = new_id(IdKind::Event);
    let event = OwnedWebhook {
        id,
        workspace_id: channel.record.workspace_id.clone(),
        channel_id: channel.record.id.clone(),
        dedupe_key: digest,
        body: text.to_string(),
        received_at: state.clock.now_ms(),
    };
    let stored = state
        .webhook_writer
        .store(event, |event_id| Task::WhatsAppWebhook { event_id })
        .await?;
    state
        .health
        .webhook(&channel.record.workspace_id, &channel.record.id, state.clock.now_ms());
    metrics::counter!("recado_webhooks_total", "provider" => "whatsapp", "outcome" => if stored { "stored" } else { "duplicate" }).increment(1);
    Ok(stored)
}
