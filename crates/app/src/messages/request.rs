//! A send as the API asks for it (`POST /api/v1/messages`): which channel,
//! which recipient, which content. Everything here is decided without HTTP;
//! the route only parses the body and shows the stored message.

use crate::channels::registry::{decode, decode_sms, decode_voice, load, LoadedChannel, LoadedSms, LoadedVoice};
use crate::contacts::service::contacts_for;
use crate::messages::send_job::{record_unplanned, Unplanned};
use crate::whatsapp::send::{send, SendPlan, SendSource, TemplateInput, WhatsAppContent};
use crate::{AppError, AppResult, AppState};
use recado_channels::whatsapp::send::{Interactive, MediaKind};
use recado_channels::whatsapp::OutboundContent;
use recado_core::consent::Channel;
use recado_store::channels::ChannelRecord;
use recado_store::contacts::Contact;
use recado_store::messages::MessageRecord;
use recado_store::workspaces::Workspace;
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct MediaInput {
    #[schema(value_type = String)]
    pub kind: MediaKind,
    pub link: Option<String>,
    pub id: Option<String>,
    pub caption: Option<String>,
    pub filename: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    /// `whatsapp`, `sms` or `voice`.
    #[schema(schema_with = channel_schema)]
    pub channel: String,
    pub contact_id: Option<String>,
    /// A number in E.164 when there is no contact id; the contact is found or created.
    pub to: Option<String>,
    pub channel_id: Option<String>,
    /// WhatsApp: the phone_number_id to send from.
    pub from: Option<String>,
    pub text: Option<String>,
    #[serde(default, deserialize_with = "recado_core::json_members::optional_object")]
    pub template: Option<TemplateInput>,
    #[serde(default, deserialize_with = "recado_core::json_members::optional_object")]
    pub media: Option<MediaInput>,
    #[schema(value_type = Option<Object>)]
    pub interactive: Option<Interactive>,
    pub campaign: Option<String>,
    /// SMS: `transliterate` or `auto` (default: the channel's).
    #[schema(schema_with = policy_schema)]
    pub policy: Option<String>,
    /// SMS: `pt`, `es` or `tr` to allow national shift tables.
    #[schema(schema_with = national_language_schema)]
    pub national_language: Option<String>,
    /// SMS: ISO country whose calling code a `to` without prefix gets.
    pub country: Option<String>,
    pub shorten_urls: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub utm: Option<serde_json::Value>,
    /// Voice: the call (API.md "Voice": `caller_id`, `phone_property`,
    /// `country`, `narration`).
    #[schema(value_type = Option<Object>)]
    pub voice: Option<serde_json::Value>,
}

fn channel_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema(serde_json::json!({"type": "string", "enum": ["whatsapp", "sms", "voice"]}))
}

fn policy_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema(serde_json::json!({"type": ["string", "null"], "enum": ["transliterate", "auto", null]}))
}

fn national_language_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema(serde_json::json!({"type": ["string", "null"], "enum": ["pt", "es", "tr", null]}))
}

fn schema(value: serde_json::Value) -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    utoipa::openapi::RefOr::T(serde_json::from_value(value).expect("a schema of the document"))
}

/// Sends what `POST /api/v1/messages` asked for, on the channel it names:
/// the channel picked, the recipient found (or created from a number), the
/// content checked, and every refusal of API.md "Messages" on record.
pub async fn send_requested(state: &AppState, ws: &Workspace, input: MessageInput) -> AppResult<MessageRecord> {
    match input.channel.as_str() {
        "whatsapp" => send_whatsapp(state, ws, input).await,
        "sms" => send_sms(state, ws, input).await,
        "voice" => send_voice(state, ws, input).await,
        other => Err(AppError::invalid(
            "invalid_channel",
            "channel",
            format!("`{other}` is not a channel (whatsapp, sms, voice)"),
        )),
    }
}

/// The channel a send uses: the one named, or the only one of its kind.
pub async fn pick_channel(
    state: &AppState,
    ws: &Workspace,
    channel_id: Option<&str>,
    prefix: &str,
) -> AppResult<LoadedChannel> {
    if let Some(id) = channel_id {
        let c = load(state, &ws.id, id).await?;
        if !c.record.kind.starts_with(prefix) {
            return Err(AppError::invalid(
                "invalid_channel",
                "channel_id",
                format!("channel {id} is not a {prefix} channel"),
            ));
        }
        return Ok(c);
    }
    let mut all = channels_of(state, &ws.id, prefix).await?;
    match all.len() {
        0 => Err(AppError::invalid(
            "no_channel",
            "channel",
            format!("the workspace has no {prefix} channel connected"),
        )),
        1 => decode(state, all.remove(0)),
        _ => Err(AppError::invalid(
            "channel_id_required",
            "channel_id",
            format!("the workspace has several {prefix} channels: name one with channel_id"),
        )),
    }
}

/// The contact of a send: by id, or by number (created when unknown).
pub async fn resolve_contact(
    state: &AppState,
    ws: &Workspace,
    contact_id: Option<&str>,
    to: Option<&str>,
    phone_property: &str,
) -> AppResult<Contact> {
    let contacts = contacts_for(state, ws);
    if let Some(id) = contact_id {
        return contacts.get(id).await;
    }
    let Some(to) = to else {
        return Err(AppError::invalid(
            "contact_required",
            "contact_id",
            "name the recipient with contact_id or to",
        ));
    };
    let ctx = recado_core::phone::PhoneContext {
        mobile_prefix: None,
        country: None,
        default_country: ws.default_country.as_deref(),
    };
    let e164 =
        recado_core::phone::normalize(to, &ctx).map_err(|e| AppError::invalid("invalid_phone", "to", e.to_string()))?;
    let changes = [(phone_property.to_string(), Some(e164.clone()))].into_iter().collect();
    Ok(contacts.find_or_create_by_phone(&e164, changes).await?.0)
}

async fn send_whatsapp(state: &AppState, ws: &Workspace, input: MessageInput) -> AppResult<MessageRecord> {
    let content = match (&input.template, &input.text, input.media, input.interactive) {
        (Some(t), None, None, None) => WhatsAppContent::Template(t.clone()),
        (None, Some(text), None, None) => {
            if text.trim().is_empty() {
                return Err(AppError::invalid("empty_text", "text", "the text is empty"));
            }
            WhatsAppContent::FreeForm(OutboundContent::Text {
                body: text.clone(),
                preview_url: text.contains("http"),
            })
        }
        (None, caption, Some(m), None) => WhatsAppContent::FreeForm(OutboundContent::Media {
            kind: m.kind,
            link: m.link,
            id: m.id,
            caption: m.caption.or(caption.clone()),
            filename: m.filename,
        }),
        (None, None, None, Some(i)) => WhatsAppContent::FreeForm(OutboundContent::Interactive(i)),
        (None, None, None, None) => {
            return Err(AppError::invalid(
                "content_required",
                "text",
                "send a text, template, media or interactive message",
            ))
        }
        _ => {
            return Err(AppError::invalid(
                "ambiguous_content",
                "template",
                "send one of text, template, media or interactive",
            ))
        }
    };
    let channel = pick_channel(state, ws, input.channel_id.as_deref(), "whatsapp").await?;
    let campaign = named_campaign(input.campaign.as_deref())?;
    let unplanned = |contact_id: Option<String>| Unplanned {
        workspace_id: &ws.id,
        channel: Channel::Whatsapp,
        channel_id: &channel.record.id,
        contact_id,
        to: input.to.clone(),
        from: input.from.as_deref(),
        text: input.text.as_deref(),
        campaign: campaign.clone(),
    };
    let contact = match resolve_contact(
        state,
        ws,
        input.contact_id.as_deref(),
        input.to.as_deref(),
        "whatsapp_phone",
    )
    .await
    {
        Ok(contact) => contact,
        Err(e) if e.code == "invalid_phone" => return Err(record_unplanned(state, unplanned(None), e).await),
        Err(e) => return Err(e),
    };
    let account = match &input.from {
        Some(from) if channel.whatsapp.has_number(from) => from.clone(),
        Some(from) => {
            let error = AppError::invalid(
                "invalid_sender",
                "from",
                format!("`{from}` is not a phone_number_id of this WhatsApp account"),
            );
            return Err(record_unplanned(state, unplanned(Some(contact.id.to_string())), error).await);
        }
        None => channel.whatsapp.phone_numbers[0].phone_number_id.clone(),
    };
    send(
        state,
        SendPlan {
            workspace: ws,
            channel: &channel,
            account,
            contact: &contact,
            content,
            campaign,
            source: SendSource::Api,
        },
    )
    .await
}

async fn send_sms(state: &AppState, ws: &Workspace, input: MessageInput) -> AppResult<MessageRecord> {
    use crate::sms::send::{send, sms_number, SmsPlan};
    let text = input
        .text
        .clone()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| AppError::invalid("empty_text", "text", "an SMS needs a text"))?;
    if input.template.is_some() || input.media.is_some() || input.interactive.is_some() {
        return Err(AppError::invalid(
            "invalid_content",
            "template",
            "SMS carries text only",
        ));
    }
    let policy = match input.policy.as_deref() {
        None => None,
        Some("transliterate") => Some(recado_sms::Policy::Transliterate),
        Some("auto") => Some(recado_sms::Policy::Auto),
        Some(other) => {
            return Err(AppError::invalid(
                "invalid_policy",
                "policy",
                format!("`{other}` is not a policy (transliterate, auto)"),
            ))
        }
    };
    let national_language = match input.national_language.as_deref() {
        None => None,
        Some("pt") => Some(recado_sms::NationalLanguage::Pt),
        Some("es") => Some(recado_sms::NationalLanguage::Es),
        Some("tr") => Some(recado_sms::NationalLanguage::Tr),
        Some(other) => {
            return Err(AppError::invalid(
                "invalid_national_language",
                "national_language",
                format!("`{other}` is not pt, es or tr"),
            ))
        }
    };
    let utm: crate::sms::compose::Utm = match input.utm {
        None => Default::default(),
        Some(v) => serde_json::from_value(v).map_err(|e| {
            AppError::invalid(
                "invalid_utm",
                "utm",
                format!("utm takes source, medium, campaign, term, content: {e}"),
            )
        })?,
    };
    let channel = pick_sms_channel(state, ws, input.channel_id.as_deref()).await?;
    let campaign = named_campaign(input.campaign.as_deref())?;
    let unplanned = |contact_id: Option<String>, to: Option<String>| Unplanned {
        workspace_id: &ws.id,
        channel: Channel::Sms,
        channel_id: &channel.record.id,
        contact_id,
        to,
        from: input.from.as_deref(),
        text: Some(&text),
        campaign: campaign.clone(),
    };
    let mut known_subscriptions = None;
    let (contact, to) = match (&input.contact_id, &input.to) {
        (Some(id), _) => {
            let contact = contacts_for(state, ws).get(id).await?;
            let to = sms_number(&contact)
                .map(str::to_string)
                .ok_or_else(|| AppError::invalid("no_phone", "contact_id", "the contact has no phone number"))?;
            (contact, to)
        }
        (None, Some(to)) => {
            let country = input.country.as_deref().map(|c| c.trim().to_ascii_uppercase());
            let ctx = recado_core::phone::PhoneContext {
                mobile_prefix: None,
                country: country.as_deref(),
                default_country: ws.default_country.as_deref(),
            };
            let e164 = match recado_core::phone::normalize(to, &ctx) {
                Ok(e164) => e164,
                Err(e) => {
                    let error = AppError::invalid("invalid_phone", "to", e.to_string());
                    return Err(record_unplanned(state, unplanned(None, Some(to.clone())), error).await);
                }
            };
            match state.sends.recipients.find(&ws.id, &e164).await? {
                Some((contact, subscriptions)) => {
                    known_subscriptions = Some(subscriptions);
                    (contact, e164)
                }
                None => {
                    let changes = [("mobilephone".to_string(), Some(e164.clone()))].into_iter().collect();
                    let (contact, _) = contacts_for(state, ws).find_or_create_by_phone(&e164, changes).await?;
                    (contact, e164)
                }
            }
        }
        (None, None) => {
            return Err(AppError::invalid(
                "contact_required",
                "contact_id",
                "name the recipient with contact_id or to",
            ))
        }
    };
    let from = match channel.sms.pick_sender(input.from.as_deref()) {
        Ok(from) => from,
        Err(error) => {
            return Err(record_unplanned(state, unplanned(Some(contact.id.to_string()), Some(to.clone())), error).await)
        }
    };
    let plan = SmsPlan {
        workspace: ws,
        channel: &channel,
        contact: &contact,
        to,
        from,
        text,
        campaign,
        source: SendSource::Api,
        policy,
        national_language,
        shorten_urls: input.shorten_urls.unwrap_or(false),
        utm,
        subscriptions: known_subscriptions.as_deref(),
    };
    send(state, plan).await
}

async fn send_voice(state: &AppState, ws: &Workspace, input: MessageInput) -> AppResult<MessageRecord> {
    use crate::voice::send::{send, CallContent, VoicePlan, DEFAULT_PHONE_PROPERTY};
    if input.text.is_some() || input.template.is_some() || input.media.is_some() || input.interactive.is_some() {
        return Err(AppError::invalid(
            "invalid_content",
            "voice",
            "a voice message is described by `voice` only",
        ));
    }
    let definition = input
        .voice
        .as_ref()
        .ok_or_else(|| AppError::invalid("invalid_voice", "voice", "describe the call in `voice`"))?;
    let content = CallContent::parse_message(definition)?;
    let channel = pick_voice_channel(state, ws, input.channel_id.as_deref()).await?;
    let campaign = named_campaign(input.campaign.as_deref())?;
    let CallContent::Message(message) = &content else {
        return Err(AppError::internal("a voice message read as an IVR call"));
    };
    let property = message
        .dialling
        .phone_property
        .clone()
        .unwrap_or_else(|| DEFAULT_PHONE_PROPERTY.to_string());
    let contact = match (&input.contact_id, &input.to) {
        (Some(id), _) => contacts_for(state, ws).get(id).await?,
        (None, Some(to)) => {
            let ctx = recado_core::phone::PhoneContext {
                mobile_prefix: None,
                country: message.dialling.country.as_deref(),
                default_country: ws.default_country.as_deref(),
            };
            let e164 = match recado_core::phone::normalize(to, &ctx) {
                Ok(e164) => e164,
                Err(e) => {
                    let unplanned = Unplanned {
                        workspace_id: &ws.id,
                        channel: Channel::Voice,
                        channel_id: &channel.record.id,
                        contact_id: None,
                        to: Some(to.clone()),
                        from: message.dialling.caller_id.as_deref(),
                        text: None,
                        campaign: campaign.clone(),
                    };
                    let error = AppError::invalid("invalid_phone", "to", e.to_string());
                    return Err(record_unplanned(state, unplanned, error).await);
                }
            };
            let changes = [(property, Some(e164.clone()))].into_iter().collect();
            contacts_for(state, ws).find_or_create_by_phone(&e164, changes).await?.0
        }
        (None, None) => {
            return Err(AppError::invalid(
                "contact_required",
                "contact_id",
                "name the recipient with contact_id or to",
            ))
        }
    };
    let plan = VoicePlan {
        workspace: ws,
        channel: &channel,
        contact: &contact,
        content,
        campaign,
        source: SendSource::Api,
        subscriptions: None,
    };
    send(state, plan).await
}

/// The voice channel a call uses: the one named, or the only one.
pub async fn pick_voice_channel(state: &AppState, ws: &Workspace, channel_id: Option<&str>) -> AppResult<LoadedVoice> {
    if let Some(id) = channel_id {
        let record = state.store.channel(&ws.id, id).await.map_err(|e| match e {
            recado_store::StoreError::NotFound => AppError::not_found("channel"),
            other => other.into(),
        })?;
        if !record.kind.starts_with("voice") {
            return Err(AppError::invalid(
                "invalid_channel",
                "channel_id",
                format!("channel {id} is not a voice channel"),
            ));
        }
        return decode_voice(state, record);
    }
    let mut all = channels_of(state, &ws.id, "voice").await?;
    match all.len() {
        0 => Err(AppError::invalid(
            "no_channel",
            "channel",
            "the workspace has no voice channel connected",
        )),
        1 => decode_voice(state, all.remove(0)),
        _ => Err(AppError::invalid(
            "channel_id_required",
            "channel_id",
            "the workspace has several voice channels: name one with channel_id",
        )),
    }
}

pub async fn pick_sms_channel(state: &AppState, ws: &Workspace, channel_id: Option<&str>) -> AppResult<LoadedSms> {
    if let Some(id) = channel_id {
        let record = state.store.channel(&ws.id, id).await.map_err(|e| match e {
            recado_store::StoreError::NotFound => AppError::not_found("channel"),
            other => other.into(),
        })?;
        if !record.kind.starts_with("sms") {
            return Err(AppError::invalid(
                "invalid_channel",
                "channel_id",
                format!("channel {id} is not an SMS channel"),
            ));
        }
        return decoded_sms(state, record);
    }
    let mut all = channels_of(state, &ws.id, "sms").await?;
    match all.len() {
        0 => Err(AppError::invalid(
            "no_channel",
            "channel",
            "the workspace has no SMS channel connected",
        )),
        1 => decoded_sms(state, all.remove(0)),
        _ => Err(AppError::invalid(
            "channel_id_required",
            "channel_id",
            "the workspace has several SMS channels: name one with channel_id",
        )),
    }
}

/// A workspace's channels of a kind (`sms`, `whatsapp`), from the cache when fresh.
async fn channels_of(state: &AppState, workspace_id: &str, prefix: &str) -> AppResult<Vec<ChannelRecord>> {
    let key = format!("{workspace_id}:{prefix}");
    if let Some(hit) = state.caches.channels.get(&key) {
        return Ok(hit);
    }
    let all = state.store.channels(workspace_id, Some(prefix)).await?;
    state.caches.channels.put(&key, all.clone());
    Ok(all)
}

/// An SMS channel decoded, from the cache when it holds this version of it.
fn decoded_sms(state: &AppState, record: ChannelRecord) -> AppResult<LoadedSms> {
    if let Some(hit) = state.channel_cache.get_sms(&record.id) {
        if hit.record == record {
            return Ok((*hit).clone());
        }
    }
    let loaded = decode_sms(state, record)?;
    state
        .channel_cache
        .put_sms(&loaded.record.id, std::sync::Arc::new(loaded.clone()));
    Ok(loaded)
}

/// The campaign a send names, if any (blank names none); 422
/// `invalid_campaign` for a name that cannot be one.
fn named_campaign(given: Option<&str>) -> AppResult<Option<String>> {
    match given.map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) => recado_core::campaigns::clean_name(name).map(Some).ok_or_else(|| {
            AppError::invalid(
                "invalid_campaign",
                "campaign",
                "a campaign name is at most 200 characters, without control characters",
            )
        }),
    }
}
