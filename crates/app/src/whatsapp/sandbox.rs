//! The simulated WhatsApp account (`whatsapp_sandbox`): approved templates to
//! try, outbound messages that become delivered then read, and inbound
//! messages injected through the same path as a signed webhook.

use super::status::transition;
use crate::channels::registry::LoadedChannel;
use crate::error::AppResult;
use crate::workers::JobError;
use crate::AppState;
use recado_core::delivery::OutboundStatus;
use recado_core::ids::{new_id, IdKind};
use recado_store::messages::MessageRecord;
use recado_store::whatsapp::TemplateRecord;
use serde_json::json;

/// Templates every sandbox account has, approved.
fn sandbox_templates() -> Vec<(&'static str, &'static str, &'static str, serde_json::Value)> {
    vec![
        (
            "hello_world",
            "en_US",
            "UTILITY",
            json!([{"type": "BODY", "text": "Hello from Recado! This is a sandbox message."}]),
        ),
        (
            "order_update",
            "pt_BR",
            "UTILITY",
            json!([{"type": "BODY", "text": "Olá {{1}}, o seu pedido {{2}} foi enviado.", "example": {"body_text": [["Ana", "4521"]]}}]),
        ),
        (
            "promo_offer",
            "en_US",
            "MARKETING",
            json!([
                {"type": "BODY", "text": "Hi {{1}}, this week's offer: {{2}}.", "example": {"body_text": [["Ana", "20% off"]]}},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]}
            ]),
        ),
    ]
}

pub async fn seed_templates(state: &AppState, channel: &LoadedChannel) -> AppResult<usize> {
    let now = state.clock.now_ms();
    let records: Vec<TemplateRecord> = sandbox_templates()
        .into_iter()
        .map(|(name, language, category, components)| TemplateRecord {
            id: new_id(IdKind::Event),
            workspace_id: channel.record.workspace_id.clone(),
            channel_id: channel.record.id.clone(),
            provider_template_id: Some(format!("sandbox-{name}")),
            name: name.into(),
            language: language.into(),
            category: category.into(),
            status: recado_core::whatsapp::TemplateStatus::Approved,
            components: components.to_string(),
            updated_at: now,
        })
        .collect();
    state.store.upsert_templates(&records).await?;
    Ok(records.len())
}

/// The sandbox "provider": accepted at once, then delivered, then read.
pub async fn deliver(state: &AppState, message: &MessageRecord) -> Result<(), JobError> {
    let provider_id = format!("wamid.sandbox.{}", message.id);
    for status in [OutboundStatus::Sent, OutboundStatus::Delivered, OutboundStatus::Read] {
        let id = provider_id.clone();
        state
            .store
            .update_delivery(&message.id, state.clock.now_ms(), |current| {
                transition(current, status, None, Some(&id)).map(|t| t.update)
            })
            .await
            .map_err(|e| JobError::Retry {
                message: e.to_string(),
                retry_after_ms: None,
            })?;
    }
    Ok(())
}
