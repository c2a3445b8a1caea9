//! Sending a voice message or an IVR call: the same shape as an SMS send.
//! `prepare` applies every rule reading only — consent to `voice`, the
//! number from the chosen property and country, the caller id from the
//! channel's list, the narrations personalised — and returns a
//! [`Prepared`] that the API writes alone and the workflow engine writes
//! with its batch. The call row is written with the message; the call
//! itself starts with the dial job queued beside them.

use crate::channels::registry::LoadedVoice;
use crate::messages::prepared::{Prepared, QueuedSend, Written};
use crate::messages::refusal::SendRefusal;
use crate::whatsapp::send::SendSource;
use crate::{AppError, AppResult, AppState};
use recado_core::consent::{may_send, Channel, SendPurpose, SubscriptionStatus};
use recado_core::phone::{normalize, PhoneContext};
use recado_core::tokens::fill_tokens;
use recado_core::voice::call::Call;
use recado_core::voice::definition::{Dialling, IvrDefinition, VoiceMessage};
use recado_store::calls::CallRecord;
use recado_store::consent::SubscriptionRecord;
use recado_store::contacts::Contact;
use recado_store::messages::MessageRecord;
use recado_store::workspaces::Workspace;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What a call plays: a message heard once, or an interactive menu.
#[derive(Clone, Debug)]
pub enum CallContent {
    Message(VoiceMessage),
    Ivr(Box<IvrDefinition>),
}

impl CallContent {
    /// Reads a definition as API.md writes it (`voice` or `ivr`), each
    /// refusal naming its field (422 `invalid_voice`).
    pub fn parse_message(value: &Value) -> AppResult<CallContent> {
        VoiceMessage::parse(value)
            .map(CallContent::Message)
            .map_err(super::refusal)
    }

    pub fn parse_ivr(value: &Value) -> AppResult<CallContent> {
        IvrDefinition::parse(value)
            .map(|ivr| CallContent::Ivr(Box::new(ivr)))
            .map_err(super::refusal)
    }

    fn dialling(&self) -> &Dialling {
        match self {
            CallContent::Message(m) => &m.dialling,
            CallContent::Ivr(i) => &i.dialling,
        }
    }

    /// `message` or `ivr`, as the call row keeps it.
    pub fn kind(&self) -> &'static str {
        match self {
            CallContent::Message(_) => "message",
            CallContent::Ivr(_) => "ivr",
        }
    }

    /// The definition as JSON, as API.md writes it.
    pub fn to_json(&self) -> Value {
        match self {
            CallContent::Message(m) => serde_json::to_value(m).unwrap_or(Value::Null),
            CallContent::Ivr(i) => serde_json::to_value(i).unwrap_or(Value::Null),
        }
    }

    /// A stored definition read back.
    pub fn read(kind: &str, definition: &str) -> AppResult<CallContent> {
        let value: Value = serde_json::from_str(definition).map_err(AppError::internal)?;
        let read = match kind {
            "ivr" => IvrDefinition::parse(&value).map(|ivr| CallContent::Ivr(Box::new(ivr))),
            _ => VoiceMessage::parse(&value).map(CallContent::Message),
        };
        read.map_err(|e| AppError::internal(format!("a stored call definition does not read: {e}")))
    }
}

/// Everything a call needs decided before it is prepared.
pub struct VoicePlan<'a> {
    pub workspace: &'a Workspace,
    pub channel: &'a LoadedVoice,
    pub contact: &'a Contact,
    pub content: CallContent,
    pub campaign: Option<String>,
    pub source: SendSource,
    /// The contact's subscriptions when the caller read them already.
    pub subscriptions: Option<&'a [SubscriptionRecord]>,
}

/// The property a call's number is read from when none is named.
pub const DEFAULT_PHONE_PROPERTY: &str = "mobilephone";

/// Checks and stores a call in its own transaction; a refusal is stored as
/// `not_sent` (`VOICE_NOT_SENT`) and returned as the error.
pub async fn send(state: &AppState, plan: VoicePlan<'_>) -> AppResult<MessageRecord> {
    let prepared = prepare(state, plan).await?;
    let written = state.sends.writer.write(prepared).await?;
    crate::messages::delivery::count_status(written.message());
    match written {
        Written::Queued(message) => Ok(message),
        Written::Refused(_, refusal) => Err(refusal.into()),
    }
}

/// Applies every rule of a call, reading only.
pub async fn prepare(state: &AppState, plan: VoicePlan<'_>) -> AppResult<Prepared> {
    let now = state.clock.now_ms();
    let campaign = crate::campaigns::name_of_send(state, plan.campaign.as_deref(), plan.source, Channel::Voice);
    let caller_id = plan
        .channel
        .voice
        .pick_caller_id(plan.content.dialling().caller_id.as_deref())?;
    let to = number_of(plan.workspace, plan.contact, plan.content.dialling());
    let content = personalised(&plan.content, &plan.contact.properties);
    let mut message = MessageRecord {
        kind: "voice".into(),
        text: Some(spoken_summary(&content)),
        content: json!({ "call": content.kind() }).to_string(),
        campaign: Some(campaign),
        campaign_source: Some(plan.source.campaign_source()),
        sender: caller_id.clone(),
        recipient: to.clone(),
        ..MessageRecord::queued_outbound(
            &plan.workspace.id,
            Channel::Voice,
            &plan.channel.record.id,
            Some(plan.contact.id.to_string()),
            now,
        )
    };
    let refused = |message: &MessageRecord, refusal: SendRefusal| Prepared::Refused {
        message: Box::new(message.clone()),
        refusal,
    };
    if !subscribed(state, plan.contact, plan.subscriptions).await? {
        return Ok(refused(
            &message,
            SendRefusal::NotSubscribed {
                channel: Channel::Voice,
            },
        ));
    }
    let Some(to) = to else {
        return Ok(refused(&message, SendRefusal::NoPhone));
    };
    message.recipient = Some(to);
    let new_call = CallRecord {
        message_id: message.id.to_string(),
        workspace_id: plan.workspace.id.clone(),
        channel_id: plan.channel.record.id.clone(),
        contact_id: Some(plan.contact.id.to_string()),
        kind: content.kind().to_string(),
        definition: content.to_json().to_string(),
        state: serde_json::to_string(&Call::new()).map_err(AppError::internal)?,
        phase: "queued".into(),
        attempt: 0,
        dialled_attempt: 0,
        provider_call_id: None,
        answered_at: None,
        ended_at: None,
        created_at: now,
        updated_at: now,
    };
    let call = super::engine::start(new_call, &content, now)?;
    let account = caller_id.unwrap_or_else(|| plan.channel.record.id.clone());
    Ok(Prepared::Queued(Box::new(QueuedSend {
        message,
        account,
        links: Vec::new(),
        timeline_kind: "VOICE_QUEUED",
        details: json!({ "call": content.kind() }),
        conversation: None,
        call: Some(call),
    })))
}

async fn subscribed(state: &AppState, contact: &Contact, known: Option<&[SubscriptionRecord]>) -> AppResult<bool> {
    let loaded;
    let subs = match known {
        Some(subs) => subs,
        None => {
            loaded = state.store.subscriptions(&contact.workspace_id, &contact.id).await?;
            &loaded
        }
    };
    let status = subs
        .iter()
        .find(|s| s.channel == Channel::Voice.as_str())
        .and_then(|s| s.status.parse::<SubscriptionStatus>().ok());
    Ok(may_send(status, SendPurpose::BusinessInitiated))
}

/// The number called: the named property (`mobilephone` by default) as
/// E.164, the call's country — else the contact's prefix or country, else
/// the workspace's — giving a number written without one its prefix.
pub fn number_of(ws: &Workspace, contact: &Contact, dialling: &Dialling) -> Option<String> {
    let property = dialling.phone_property.as_deref().unwrap_or(DEFAULT_PHONE_PROPERTY);
    if dialling.country.is_none() {
        // Numbers are kept in E.164 beside the properties, read with the
        // contact's own prefix and country.
        if let Some(e164) = contact.phones.get(property) {
            return Some(e164.clone());
        }
    }
    let raw = contact.properties.get(property)?;
    let ctx = PhoneContext {
        mobile_prefix: if dialling.country.is_some() {
            None
        } else {
            contact.properties.get("mobile_prefix").map(String::as_str)
        },
        country: dialling
            .country
            .as_deref()
            .or_else(|| contact.properties.get("country").map(String::as_str)),
        default_country: ws.default_country.as_deref(),
    };
    normalize(raw, &ctx).ok()
}

/// The definition with every spoken text's `{{contact.*}}` tokens filled
/// from the contact's properties: what the call plays is fixed when it is
/// sent, as an SMS's text is.
pub fn personalised(content: &CallContent, properties: &BTreeMap<String, String>) -> CallContent {
    let fill = |text: &str| fill_tokens(text, |name| properties.get(name).cloned());
    let mut value = content.to_json();
    fill_narrations(&mut value, &fill);
    let filled = match content {
        CallContent::Message(_) => VoiceMessage::parse(&value).map(CallContent::Message),
        CallContent::Ivr(_) => IvrDefinition::parse(&value).map(|ivr| CallContent::Ivr(Box::new(ivr))),
    };
    // Filling tokens can only leave a text empty; the definition as
    // written is kept then, tokens unfilled, rather than failing the call.
    filled.unwrap_or_else(|_| content.clone())
}

fn fill_narrations(value: &mut Value, fill: &impl Fn(&str) -> String) {
    match value {
        Value::Object(map) => {
            let spoken = map.get("kind").and_then(Value::as_str) == Some("tts");
            for (key, member) in map.iter_mut() {
                if spoken && key == "text" {
                    if let Value::String(text) = member {
                        *text = fill(text);
                    }
                } else {
                    fill_narrations(member, fill);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| fill_narrations(item, fill)),
        _ => {}
    }
}

/// What the message shows as its text: the opening narration's words, or
/// its audio URL.
fn spoken_summary(content: &CallContent) -> String {
    use recado_core::voice::definition::Narration;
    let narration = match content {
        CallContent::Message(m) => &m.narration,
        CallContent::Ivr(i) => &i.narration,
    };
    match narration {
        Narration::Tts { text, .. } => text.clone(),
        Narration::Audio { url } => url.clone(),
    }
}
