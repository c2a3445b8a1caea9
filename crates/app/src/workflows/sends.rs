//! A workflow's send node through the same send path as the API: the
//! channel's `prepare` applies every rule (consent, session, template,
//! segments), and the result is written into the engine's transaction.

use crate::channels::registry::{LoadedChannel, LoadedSms, LoadedVoice};
use crate::messages::prepared::Prepared;
use crate::messages::request::{pick_channel, pick_sms_channel, pick_voice_channel};
use crate::sms::compose::Utm;
use crate::whatsapp::send::{SendPlan, SendSource, TemplateInput, WhatsAppContent};
use crate::{AppError, AppResult, AppState};
use recado_channels::whatsapp::OutboundContent;
use recado_core::tokens::{fill_workflow_tokens, Namespace};
use recado_flow::definition::{SmsMessage, WhatsappTemplateMessage, WhatsappTextMessage};
use recado_flow::SendAction;
use recado_store::consent::SubscriptionRecord;
use recado_store::contacts::Contact;
use recado_store::workspaces::Workspace;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Who receives a workflow send, and the payload that enrolled them.
pub struct Recipient<'a> {
    pub workspace: &'a Workspace,
    pub contact: &'a Contact,
    pub trigger_data: &'a Map<String, Value>,
    /// The contact's subscriptions, read with the engine's batch.
    pub subscriptions: Option<&'a [SubscriptionRecord]>,
    /// Who sends: a workflow, or a broadcast through the same path.
    pub source: SendSource,
}

/// The channels a batch of sends goes through, decoded once per batch
/// (decoding decrypts the channel's secrets).
#[derive(Default)]
pub struct Channels {
    sms: HashMap<(String, Option<String>), Arc<LoadedSms>>,
    whatsapp: HashMap<(String, Option<String>), Arc<LoadedChannel>>,
    voice: HashMap<(String, Option<String>), Arc<LoadedVoice>>,
}

impl Channels {
    async fn sms(&mut self, state: &AppState, ws: &Workspace, id: Option<&str>) -> AppResult<Arc<LoadedSms>> {
        let key = (ws.id.clone(), id.map(str::to_string));
        if let Some(c) = self.sms.get(&key) {
            return Ok(c.clone());
        }
        let channel = Arc::new(pick_sms_channel(state, ws, id).await?);
        self.sms.insert(key, channel.clone());
        Ok(channel)
    }

    async fn voice(&mut self, state: &AppState, ws: &Workspace, id: Option<&str>) -> AppResult<Arc<LoadedVoice>> {
        let key = (ws.id.clone(), id.map(str::to_string));
        if let Some(c) = self.voice.get(&key) {
            return Ok(c.clone());
        }
        let channel = Arc::new(pick_voice_channel(state, ws, id).await?);
        self.voice.insert(key, channel.clone());
        Ok(channel)
    }

    async fn whatsapp(&mut self, state: &AppState, ws: &Workspace, id: Option<&str>) -> AppResult<Arc<LoadedChannel>> {
        let key = (ws.id.clone(), id.map(str::to_string));
        if let Some(c) = self.whatsapp.get(&key) {
            return Ok(c.clone());
        }
        let channel = Arc::new(pick_channel(state, ws, id, "whatsapp").await?);
        self.whatsapp.insert(key, channel.clone());
        Ok(channel)
    }
}

/// Prepares the send a node asks for. An error that is not internal (no
/// channel, no phone number, a sender the channel does not allow) is a
/// refusal with that error's code; nothing was stored for it.
pub async fn prepare(
    state: &AppState,
    to: &Recipient<'_>,
    action: &SendAction,
    channels: &mut Channels,
) -> AppResult<Prepared> {
    match action {
        SendAction::Sms(m) => prepare_sms(state, to, m, channels).await,
        SendAction::WhatsappTemplate(m) => prepare_template(state, to, m, channels).await,
        SendAction::WhatsappText(m) => prepare_text(state, to, m, channels).await,
        SendAction::Voice(m) => {
            let content = crate::voice::send::CallContent::parse_message(&m.voice)?;
            prepare_call(
                state,
                to,
                m.channel_id.as_deref(),
                content,
                m.campaign.clone(),
                channels,
            )
            .await
        }
        SendAction::Ivr(m) => {
            let content = crate::voice::send::CallContent::parse_ivr(&m.ivr)?;
            prepare_call(
                state,
                to,
                m.channel_id.as_deref(),
                content,
                m.campaign.clone(),
                channels,
            )
            .await
        }
    }
}

async fn prepare_call(
    state: &AppState,
    to: &Recipient<'_>,
    channel_id: Option<&str>,
    content: crate::voice::send::CallContent,
    campaign: Option<String>,
    channels: &mut Channels,
) -> AppResult<Prepared> {
    let channel = channels.voice(state, to.workspace, channel_id).await?;
    let plan = crate::voice::send::VoicePlan {
        workspace: to.workspace,
        channel: &channel,
        contact: to.contact,
        content,
        campaign,
        source: to.source,
        subscriptions: to.subscriptions,
    };
    crate::voice::send::prepare(state, plan).await
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

async fn prepare_sms(
    state: &AppState,
    to: &Recipient<'_>,
    m: &SmsMessage,
    channels: &mut Channels,
) -> AppResult<Prepared> {
    use crate::sms::send::{sms_number, SmsPlan};
    let channel = channels.sms(state, to.workspace, m.channel_id.as_deref()).await?;
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
        source: to.source,
        policy,
        national_language: None,
        shorten_urls: m.shorten_urls,
        utm,
        subscriptions: to.subscriptions,
    };
    crate::sms::send::prepare(state, plan).await
}

async fn prepare_template(
    state: &AppState,
    to: &Recipient<'_>,
    m: &WhatsappTemplateMessage,
    channels: &mut Channels,
) -> AppResult<Prepared> {
    let channel = channels.whatsapp(state, to.workspace, m.channel_id.as_deref()).await?;
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

async fn prepare_text(
    state: &AppState,
    to: &Recipient<'_>,
    m: &WhatsappTextMessage,
    channels: &mut Channels,
) -> AppResult<Prepared> {
    let channel = channels.whatsapp(state, to.workspace, m.channel_id.as_deref()).await?;
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
    channel: &LoadedChannel,
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
        source: to.source,
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
