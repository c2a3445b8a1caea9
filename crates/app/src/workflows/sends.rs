//! A workflow's send node through the same send path as the API: the
//! channel's `prepare` applies every rule (consent, session, template,
//! segments), and the result is written into the engine's transaction.

use crate::messages::prepared::Prepared;
use crate::messages::request::{pick_channel, pick_sms_channel};
use crate::sms::compose::Utm;
use crate::whatsapp::send::{SendPlan, SendSource, TemplateInput, WhatsAppContent};
use crate::{AppError, AppResult, AppState};
use recado_channels::whatsapp::OutboundContent;
use recado_core::tokens::{fill_workflow_tokens, Namespace};
use recado_flow::definition::{SmsMessage, WhatsappTemplateMessage, WhatsappTextMessage};
use recado_flow::SendAction;
use recado_store::contacts::Contact;
use recado_store::workspaces::Workspace;
use serde_json::{Map, Value};

/// Who receives a workflow send, and the payload that enrolled them.
pub struct Recipient<'a> {
    pub workspace: &'a Workspace,
    pub contact: &'a Contact,
    pub trigger_data: &'a Map<String, Value>,
}

/// Prepares the send a node asks for. An error that is not internal (no
/// channel, no phone number, a sender the channel does not allow) is a
/// refusal with that error's code; nothing was stored for it.
pub async fn prepare(state: &AppState, to: &Recipient<'_>, action: &SendAction) -> AppResult<Prepared> {
    match action {
        SendAction::Sms(m) => prepare_sms(state, to, m).await,
        SendAction::WhatsappTemplate(m) => prepare_template(state, to, m).await,
        SendAction::WhatsappText(m) => prepare_text(state, to, m).await,
    }
}

/// Fills `{{contact.x}}` and `{{trigger.data.x}}` tokens.
pub fn fill(text: &str, to: &Recipient<'_>) -> String {
    fill_workflow_tokens(text, |namespace, name| match namespace {
        Namespace::Contact => to.contact.properties.get(name).cloned(),
        Namespace::TriggerData => to.trigger_data.get(name).and_then(scalar_text),
    })
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

async fn prepare_sms(state: &AppState, to: &Recipient<'_>, m: &SmsMessage) -> AppResult<Prepared> {
    use crate::sms::send::{sms_number, SmsPlan};
    let channel = pick_sms_channel(state, to.workspace, m.channel_id.as_deref()).await?;
    let number = sms_number(to.contact)
        .map(str::to_string)
        .ok_or_else(|| AppError::invalid("no_phone", "contact_id", "the contact has no phone number"))?;
    let from = channel.sms.pick_sender(Some(&m.from))?;
    let policy = match m.policy.as_deref() {
        Some("auto") => Some(recado_sms::Policy::Auto),
        Some(_) => Some(recado_sms::Policy::Transliterate),
        None => None,
    };
    let utm = m
        .utm
        .as_ref()
        .map(|u| Utm {
            source: u.source.clone(),
            medium: u.medium.clone(),
            campaign: u.campaign.clone(),
            term: u.term.clone(),
            content: u.content.clone(),
        })
        .unwrap_or_default();
    let plan = SmsPlan {
        workspace: to.workspace,
        channel: &channel,
        contact: to.contact,
        to: number,
        from,
        text: fill(&m.text, to),
        campaign: m.campaign.clone(),
        source: SendSource::Workflow,
        policy,
        national_language: None,
        shorten_urls: m.shorten_urls,
        utm,
    };
    crate::sms::send::prepare(state, plan).await
}

async fn prepare_template(state: &AppState, to: &Recipient<'_>, m: &WhatsappTemplateMessage) -> AppResult<Prepared> {
    let channel = pick_channel(state, to.workspace, m.channel_id.as_deref(), "whatsapp").await?;
    let parameters = fill_strings(&m.template.parameters, to);
    let parameters = if parameters.is_null() {
        Default::default()
    } else {
        serde_json::from_value(parameters).map_err(|e| {
            AppError::invalid(
                "template_parameters",
                "template.parameters",
                format!("the template parameters do not read: {e}"),
            )
        })?
    };
    let content = WhatsAppContent::Template(TemplateInput {
        name: m.template.name.clone(),
        language: m.template.language.clone(),
        parameters,
    });
    prepare_whatsapp(state, to, &channel, content, m.campaign.clone()).await
}

async fn prepare_text(state: &AppState, to: &Recipient<'_>, m: &WhatsappTextMessage) -> AppResult<Prepared> {
    let channel = pick_channel(state, to.workspace, m.channel_id.as_deref(), "whatsapp").await?;
    let body = fill(&m.text, to);
    let content = WhatsAppContent::FreeForm(OutboundContent::Text {
        preview_url: body.contains("http"),
        body,
    });
    prepare_whatsapp(state, to, &channel, content, m.campaign.clone()).await
}

async fn prepare_whatsapp(
    state: &AppState,
    to: &Recipient<'_>,
    channel: &crate::channels::registry::LoadedChannel,
    content: WhatsAppContent,
    campaign: Option<String>,
) -> AppResult<Prepared> {
    let account = channel
        .whatsapp
        .phone_numbers
        .first()
        .map(|n| n.phone_number_id.clone())
        .ok_or_else(|| AppError::invalid("no_channel", "channel_id", "the WhatsApp channel has no number"))?;
    let plan = SendPlan {
        workspace: to.workspace,
        channel,
        account,
        contact: to.contact,
        content,
        campaign,
        source: SendSource::Workflow,
    };
    crate::whatsapp::send::prepare(state, plan).await
}

/// Fills tokens in every string of a JSON value (template parameters).
fn fill_strings(value: &Value, to: &Recipient<'_>) -> Value {
    match value {
        Value::String(s) => Value::String(fill(s, to)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_strings(v, to)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), fill_strings(v, to))).collect()),
        other => other.clone(),
    }
}
