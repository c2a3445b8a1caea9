//! Sending on WhatsApp. `prepare` applies every rule before anything is
//! stored (session window, consent, template approval and parameters, the
//! monthly conversation limit and the tier cap); the message is then stored
//! with its send job, and `send_job` talks to the provider.

use super::status::transition;
use crate::channels::registry::LoadedChannel;
use crate::error::{AppError, AppResult};
use crate::messages::delivery::{update_for, Report};
use crate::messages::prepared::{Conversation, Prepared, QueuedSend, Written};
use crate::messages::refusal::SendRefusal;
use crate::messages::send_job::{buried_settlement, channel_gone_reason, load_queued, Queued};
use crate::provider_metrics::ProviderOutcome;
use crate::workers::JobError;
use crate::AppState;
use recado_channels::whatsapp::{
    build_components, classify, ErrorAction, OutboundContent, SendError, SendRequest, SentMessage, Template,
    TemplateParams,
};
use recado_core::consent::{Channel, SubscriptionStatus};
use recado_core::delivery::OutboundStatus;
use recado_core::whatsapp::{counts_as_conversation, usage_period, SessionWindow};
use recado_store::channels::ChannelRecord;
use recado_store::contacts::Contact;
use recado_store::jobs::Job;
use recado_store::messages::{MessageRecord, QuotaCheck};
use recado_store::workspaces::Workspace;
use serde::Deserialize;
use serde_json::json;

/// A template to send, as the API names it.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub name: String,
    pub language: String,
    /// `{"header": [...], "body": [...], "buttons": {"0": [...]}}`: the
    /// values of each component's variables, in order.
    #[serde(default, deserialize_with = "recado_core::json_members::object")]
    #[schema(schema_with = template_params_schema)]
    pub parameters: TemplateParams,
}

fn template_params_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    let texts = serde_json::json!({"type": "array", "items": {"type": "string"}});
    let schema = serde_json::json!({"type": "object", "additionalProperties": false, "properties": {
        "header": texts, "body": texts,
        "buttons": {"type": "object", "propertyNames": {"type": "string", "pattern": "^[0-9]{1,9}$"}, "additionalProperties": texts},
    }});
    utoipa::openapi::RefOr::T(serde_json::from_value(schema).expect("a schema of the document"))
}

/// What to send: free-form content (only inside a session) or a template.
#[derive(Clone, Debug)]
pub enum WhatsAppContent {
    FreeForm(OutboundContent),
    Template(TemplateInput),
}

/// Who sends: the API, a user in the inbox, a workflow, the hub itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendSource {
    Api,
    Inbox,
    Workflow,
    Crm,
    Broadcast,
    /// The SMS of an IVR key, asked for by the contact in the call.
    IvrKey,
    System,
}

impl SendSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SendSource::Api => "API",
            SendSource::Inbox => "INBOX",
            SendSource::Workflow => "WORKFLOW",
            SendSource::Crm => "CRM",
            SendSource::Broadcast => "BROADCAST",
            SendSource::IvrKey => "IVR",
            SendSource::System => "SYSTEM",
        }
    }
}

pub struct SendPlan<'a> {
    pub workspace: &'a Workspace,
    pub channel: &'a LoadedChannel,
    pub account: String,
    pub contact: &'a Contact,
    pub content: WhatsAppContent,
    pub campaign: Option<String>,
    pub source: SendSource,
}

/// The phone number a WhatsApp message goes to.
pub fn whatsapp_number(contact: &Contact) -> Option<&str> {
    contact
        .phones
        .get("whatsapp_phone")
        .or_else(|| contact.phones.get("mobilephone"))
        .map(String::as_str)
}

/// Checks every rule, stores the message and its send job, and returns it
/// (status `queued`). A refused send is stored as `not_sent` with the reason,
/// recorded on the timeline, and returned as the error.
pub async fn send(state: &AppState, plan: SendPlan<'_>) -> AppResult<MessageRecord> {
    let prepared = prepare(state, plan).await?;
    let written = state.sends.writer.write(prepared).await?;
    crate::messages::delivery::count_status(written.message());
    after_written(state, &written).await?;
    match written {
        Written::Queued(message) => Ok(message),
        Written::Refused(_, refusal) => Err(refusal.into()),
    }
}

/// What follows a committed WhatsApp send: threshold notices when it counted
/// a conversation, and the live update of the inbox.
pub async fn after_written(state: &AppState, written: &Written) -> AppResult<()> {
    if let Written::Queued(stored) = written {
        if stored.counted {
            super::usage::notify_thresholds(state, &stored.workspace_id).await?;
        }
        crate::live::publish(
            state,
            &stored.workspace_id,
            stored.thread_id.as_deref().unwrap_or(""),
            &stored.id,
        );
    }
    Ok(())
}

/// Applies every rule of a WhatsApp send, reading only: the session window,
/// consent, template approval and parameters, and whether it opens a counted
/// conversation (admitted against the limits when written).
pub async fn prepare(state: &AppState, plan: SendPlan<'_>) -> AppResult<Prepared> {
    let now = state.clock.now_ms();
    let now_dt = state.clock.now();
    let contact = plan.contact;
    let channel = plan.channel;
    let campaign = crate::campaigns::name_of_send(state, plan.campaign.as_deref(), plan.source, Channel::Whatsapp);
    let recipient = whatsapp_number(contact).map(str::to_string);
    let (kind, text, content_json, template_json) = describe(&plan.content);
    let mut message = MessageRecord {
        kind,
        text,
        content: content_json.to_string(),
        template: template_json.map(|t| t.to_string()),
        campaign: Some(campaign),
        campaign_source: Some(plan.source.campaign_source()),
        sender: Some(plan.account.clone()),
        recipient: recipient.clone(),
        ..MessageRecord::queued_outbound(
            &plan.workspace.id,
            Channel::Whatsapp,
            &channel.record.id,
            Some(contact.id.to_string()),
            now,
        )
    };
    let refused = |message: &MessageRecord, refusal: SendRefusal| Prepared::Refused {
        message: Box::new(message.clone()),
        refusal,
    };
    let Some(recipient) = recipient else {
        return Ok(refused(&message, SendRefusal::NoWhatsAppPhone));
    };
    let thread = state
        .store
        .thread_for(&plan.workspace.id, &contact.id, &channel.record.id, &plan.account)
        .await?;
    let session = SessionWindow {
        last_inbound_at_ms: thread.as_ref().and_then(|t| t.last_inbound_at),
    };
    let session_open = session.is_open(now);
    let business_initiated = !session_open;

    match &plan.content {
        WhatsAppContent::FreeForm(content) => {
            if !session_open {
                return Ok(refused(&message, SendRefusal::OutsideSessionWindow));
            }
            if let Err(e) = recado_channels::whatsapp::validate(&SendRequest {
                to: recipient.clone(),
                content: content.clone(),
                biz_opaque_callback_data: None,
                reply_to: None,
            }) {
                return Err(AppError::invalid("invalid_content", "text", e.to_string()));
            }
        }
        WhatsAppContent::Template(input) => {
            // Templates are business-initiated: only to subscribed contacts.
            if !is_subscribed(state, contact).await? {
                let refusal = SendRefusal::NotSubscribed {
                    channel: Channel::Whatsapp,
                };
                return Ok(refused(&message, refusal));
            }
            let stored = state
                .store
                .template(&channel.record.id, &input.name, &input.language)
                .await?;
            let Some(stored) = stored.filter(|t| t.status.is_sendable()) else {
                let refusal = SendRefusal::TemplateNotApproved {
                    name: input.name.clone(),
                    language: input.language.clone(),
                };
                return Ok(refused(&message, refusal));
            };
            let definition = template_of(&stored);
            let components = match build_components(&definition.variables(), &input.parameters) {
                Ok(c) => c,
                Err(err) => {
                    let refusal = SendRefusal::TemplateParameters {
                        field: format!("template.parameters.{}", err.component()),
                        reason: err.to_string(),
                    };
                    return Ok(refused(&message, refusal));
                }
            };
            let content = OutboundContent::Template {
                name: input.name.clone(),
                language: input.language.clone(),
                components,
            };
            message.content = json!({ "content": content }).to_string();
            message.text = Some(render_template_text(&definition, &input.parameters));
        }
    }

    let usage = state.store.usage_settings(&plan.workspace.id).await?;
    let first_business_in_session = match (&thread, session_open) {
        (Some(t), true) => {
            !state
                .store
                .has_outbound_since(&t.id, t.session_started_at.unwrap_or(0))
                .await?
        }
        _ => false,
    };
    let counted = counts_as_conversation(session_open, first_business_in_session, usage.wa_count_user_initiated);
    message.counted = counted;
    let quota = if counted {
        let tz: chrono_tz::Tz = usage.timezone.parse().unwrap_or(chrono_tz::UTC);
        let period = usage_period(now_dt, usage.wa_billing_anchor_day as u32, tz).map_err(AppError::internal)?;
        Some(QuotaCheck {
            period_start: period.start.timestamp_millis(),
            period_end: period.end.timestamp_millis(),
            limit: super::usage::effective_limit(&usage),
            tier_cap: channel.whatsapp.tier.cap(),
        })
    } else {
        None
    };
    let details = json!({ "type": message.kind });
    Ok(Prepared::Queued(Box::new(QueuedSend {
        message,
        account: plan.account.clone(),
        links: Vec::new(),
        timeline_kind: "WHATSAPP_QUEUED",
        details,
        conversation: counted.then_some(Conversation {
            recipient,
            business_initiated,
            quota,
        }),
        call: None,
    })))
}

/// Stores a refused send as `not_sent` with `WHATSAPP_NOT_SENT` on the timeline.
pub async fn record_refusal(state: &AppState, message: &MessageRecord, refusal: SendRefusal) -> AppError {
    crate::messages::send_job::record_refusal(state, message, refusal.into(), "WHATSAPP_NOT_SENT").await
}

async fn is_subscribed(state: &AppState, contact: &Contact) -> AppResult<bool> {
    let subs = state.store.subscriptions(&contact.workspace_id, &contact.id).await?;
    Ok(subs
        .iter()
        .any(|s| s.channel == "whatsapp" && s.status == SubscriptionStatus::Subscribed.as_str()))
}

pub fn template_of(stored: &recado_store::whatsapp::TemplateRecord) -> Template {
    Template {
        id: stored.provider_template_id.clone().unwrap_or_default(),
        name: stored.name.clone(),
        language: stored.language.clone(),
        category: stored.category.clone(),
        status: stored.status.as_str().to_string(),
        components: serde_json::from_str(&stored.components).unwrap_or_default(),
    }
}

/// The body text of a template with its parameters filled, for timelines,
/// the inbox and search.
pub fn render_template_text(template: &Template, params: &TemplateParams) -> String {
    let body = template
        .components
        .as_array()
        .and_then(|cs| {
            cs.iter()
                .find(|c| c["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("BODY")))
        })
        .and_then(|c| c["text"].as_str())
        .unwrap_or(&template.name)
        .to_string();
    let mut out = body;
    for (i, value) in params.body.iter().enumerate() {
        out = out.replace(&format!("{{{{{}}}}}", i + 1), value);
    }
    out
}

fn describe(content: &WhatsAppContent) -> (String, Option<String>, serde_json::Value, Option<serde_json::Value>) {
    match content {
        WhatsAppContent::FreeForm(c) => {
            let (kind, text) = match c {
                OutboundContent::Text { body, .. } => ("text".to_string(), Some(body.clone())),
                OutboundContent::Media { kind, caption, .. } => (kind.as_str().to_string(), caption.clone()),
                OutboundContent::Interactive(i) => ("interactive".to_string(), Some(interactive_body(i))),
                OutboundContent::Template { name, .. } => ("template".to_string(), Some(name.clone())),
                OutboundContent::Reaction { emoji, .. } => ("reaction".to_string(), Some(emoji.clone())),
                OutboundContent::Location { name, .. } => ("location".to_string(), name.clone()),
            };
            (kind, text, json!({ "content": c }), None)
        }
        WhatsAppContent::Template(t) => (
            "template".to_string(),
            None,
            json!({}),
            Some(json!({ "name": t.name, "language": t.language, "parameters": t.parameters })),
        ),
    }
}

fn interactive_body(i: &recado_channels::whatsapp::send::Interactive) -> String {
    match i {
        recado_channels::whatsapp::send::Interactive::Buttons { body, .. } => body.clone(),
        recado_channels::whatsapp::send::Interactive::List { body, .. } => body.clone(),
    }
}

/// The confirmation of a keyword change, sent inside the session the keyword
/// message just opened.
pub async fn send_system_reply(
    state: &AppState,
    channel: &LoadedChannel,
    contact: &Contact,
    account: &str,
    text: &str,
) -> Result<(), JobError> {
    let workspace = state
        .store
        .workspace(&contact.workspace_id)
        .await
        .map_err(|e| JobError::Retry {
            message: e.to_string(),
            retry_after_ms: None,
        })?;
    let plan = SendPlan {
        workspace: &workspace,
        channel,
        account: account.to_string(),
        contact,
        content: WhatsAppContent::FreeForm(OutboundContent::Text {
            body: text.to_string(),
            preview_url: false,
        }),
        campaign: None,
        source: SendSource::System,
    };
    match send(state, plan).await {
        Ok(_) => Ok(()),
        // A refused confirmation (e.g. the limit is reached) is recorded; the
        // consent change itself stands.
        Err(e) if e.kind != crate::ErrorKind::Internal => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Sends a queued message to the provider. A send that may have reached the
/// provider before a crash is never repeated: it becomes `uncertain` and is
/// reconciled by the status webhooks (which echo the hub's id).
pub async fn send_job(state: AppState, job: Job, message_id: String) -> Result<(), JobError> {
    let (message, record) = match load_queued(&state, &job, &message_id).await? {
        Queued::Settled => return Ok(()),
        Queued::Uncertain(m) => return set_status(&state, &m, OutboundStatus::Uncertain, None).await,
        Queued::ChannelGone(m) => {
            return set_status(&state, &m, OutboundStatus::NotSent, Some(channel_gone_reason())).await;
        }
        Queued::Ready(m, record) => (m, record),
    };
    // A paused broadcast's messages wait; a cancelled one's are not sent.
    match crate::broadcasts::holds(&state, std::iter::once(&message))
        .await?
        .into_values()
        .next()
    {
        Some(recado_core::broadcasts::Status::Cancelled) => {
            let reason = crate::broadcasts::cancelled_reason();
            return set_status(&state, &message, OutboundStatus::NotSent, Some(reason)).await;
        }
        Some(_) => {
            return Err(JobError::Later {
                after_ms: crate::broadcasts::HELD_RETRY_MS,
            })
        }
        None => {}
    }
    let now = state.clock.now_ms();
    let channel = crate::channels::registry::decode(&state, record)?;
    let content: OutboundContent = serde_json::from_value(
        serde_json::from_str::<serde_json::Value>(&message.content).unwrap_or_default()["content"].clone(),
    )
    .map_err(|e| JobError::Permanent(format!("stored content unreadable: {e}")))?;
    let request = SendRequest {
        to: message.recipient.clone().unwrap_or_default(),
        content,
        biz_opaque_callback_data: Some(message.id.to_string()),
        reply_to: None,
    };
    let account = message.sender.clone().unwrap_or_default();
    state.store.mark_send_attempted(&message.id, now).await?;
    let Some(client) = channel.whatsapp.client(&state.http) else {
        return super::sandbox::deliver(&state, &message).await;
    };
    let started = std::time::Instant::now();
    let sent = client.send(&account, &request).await;
    note_health(&state, &channel.record, &sent);
    crate::provider_metrics::record(&channel.record.kind, provider_outcome(&sent), started.elapsed());
    match sent {
        Ok(sent) => {
            apply_report(&state, &message.id, OutboundStatus::Sent, None, Some(&sent.id)).await?;
            Ok(())
        }
        Err(SendError::Provider {
            http_status,
            code,
            message: text,
            details,
            retry_after_ms,
        }) => match classify(code, Some(http_status)) {
            ErrorAction::RetryLater => {
                state.store.clear_send_attempted(&message.id).await?;
                Err(JobError::Retry {
                    message: format!("provider asked to retry later ({code}: {text})"),
                    retry_after_ms,
                })
            }
            ErrorAction::NotSent { reason } => {
                let m = format!("{code}: {}", details.unwrap_or(text));
                set_status(&state, &message, OutboundStatus::NotSent, Some((reason.into(), m))).await
            }
            ErrorAction::OptedOut => {
                apply_report(&state, &message.id, OutboundStatus::Failed, Some((code, text)), None).await?;
                unsubscribe_provider(&state, &message).await
            }
            ErrorAction::Permanent { reason } => {
                let m = format!("{code}: {}", details.unwrap_or(text));
                set_status(&state, &message, OutboundStatus::Failed, Some((reason.into(), m))).await
            }
        },
        Err(SendError::Connect(e)) => {
            state.store.clear_send_attempted(&message.id).await?;
            Err(JobError::Retry {
                message: format!("provider unreachable: {e}"),
                retry_after_ms: None,
            })
        }
        Err(SendError::Timeout) => set_status(&state, &message, OutboundStatus::Uncertain, None).await,
        Err(SendError::Decode(e)) => {
            // The provider answered but not as documented: it may have sent.
            tracing::warn!(message = %message.id, error = %e, "unreadable provider answer");
            set_status(&state, &message, OutboundStatus::Uncertain, None).await
        }
    }
}

/// What the Graph API's answer counts as among provider requests.
fn provider_outcome(sent: &Result<SentMessage, SendError>) -> ProviderOutcome {
    match sent {
        Ok(_) => ProviderOutcome::Accepted,
        Err(SendError::Provider { http_status, code, .. }) => match classify(*code, Some(*http_status)) {
            ErrorAction::RetryLater => ProviderOutcome::RetryLater,
            _ => ProviderOutcome::Refused,
        },
        Err(SendError::Connect(_)) => ProviderOutcome::Unreachable,
        Err(SendError::Timeout | SendError::Decode(_)) => ProviderOutcome::Uncertain,
    }
}

/// Notes the provider's answer on the channel's health.
fn note_health(state: &AppState, channel: &ChannelRecord, sent: &Result<SentMessage, SendError>) {
    let (ws, id, now) = (&channel.workspace_id, &channel.id, state.clock.now_ms());
    match sent {
        Ok(_) => state.health.sent(ws, id, now),
        Err(SendError::Provider { code, message, .. }) => state.health.failed(ws, id, now, &code.to_string(), message),
        Err(e) => state.health.failed(ws, id, now, "unreachable", &e.to_string()),
    }
}

async fn unsubscribe_provider(state: &AppState, message: &MessageRecord) -> Result<(), JobError> {
    let Some(contact_id) = &message.contact_id else {
        return Ok(());
    };
    let Ok(contact) = state.store.contact(&message.workspace_id, contact_id).await else {
        return Ok(());
    };
    let request = recado_core::consent::ChangeRequest {
        channel: recado_core::consent::Channel::Whatsapp,
        status: SubscriptionStatus::Unsubscribed,
        legal_basis: None,
        explanation: Some("WhatsApp reported that the contact stopped marketing messages (131050)".into()),
        source: recado_core::consent::ConsentSource::Provider,
    };
    crate::consent::service::change(&state.store, &contact, &request, "system", state.clock.now_ms()).await?;
    Ok(())
}

/// Applies a provider report through the same transition as status webhooks.
pub async fn apply_report(
    state: &AppState,
    id: &str,
    status: OutboundStatus,
    error: Option<(i64, String)>,
    provider_id: Option<&str>,
) -> Result<(), JobError> {
    state
        .store
        .update_delivery(id, state.clock.now_ms(), |current| {
            transition(current, status, error, provider_id).map(|t| t.update)
        })
        .await?;
    Ok(())
}

/// Settles the message of a send job that was buried: `failed` with the
/// provider's last error, or `uncertain` if the last attempt may have reached it.
pub async fn send_buried(state: AppState, job: Job, message_id: String) -> Result<(), JobError> {
    if let Some((message, status, error)) = buried_settlement(&state, &job, &message_id).await? {
        set_status(&state, &message, status, error).await?;
    }
    Ok(())
}

/// Sets a status decided by the hub (not a provider report) through the same
/// transition as reports: it moves the message only forward, so a status
/// webhook that reconciled the message meanwhile is never undone.
async fn set_status(
    state: &AppState,
    message: &MessageRecord,
    status: OutboundStatus,
    error: Option<(String, String)>,
) -> Result<(), JobError> {
    state
        .store
        .update_delivery(&message.id, state.clock.now_ms(), |current| {
            update_for(
                current,
                Report {
                    status,
                    error,
                    provider_id: None,
                },
            )
        })
        .await?;
    Ok(())
}
