//! What a contact's page offers beyond the conversations (the "CRM
//! extension" of seed 003): sending an SMS through the one send path (the
//! campaign `CRM_SMS_{YEAR}_{MONTH}` unless named), with a meter that counts
//! the text as it will be sent; the contact's timeline with each event's
//! message, campaign and sender; and editing the contact's properties.

use super::page::{local_time, Opt, UiResult};
use super::session::{urlencode, Posted};
use super::sms_meter::measure;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Json, Redirect, Response};
use recado_app::channels::registry::{decode_sms, load_sms};
use recado_app::contacts::service::{check_properties, contacts_for};
use recado_app::sms::compose::Utm;
use recado_app::sms::send::{composed_sample, send, sms_number, SmsPlan};
use recado_app::whatsapp::send::SendSource;
use recado_app::AppState;
use recado_store::contacts::Contact;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Timeline entries shown on the page (the API pages through all).
const TIMELINE_SHOWN: i64 = 50;

/// The "send an SMS" box of a contact's page.
pub struct SmsBox {
    pub channels: Vec<Opt>,
    pub senders: Vec<Opt>,
    /// Where it goes, when the contact has a number.
    pub number: Option<String>,
    pub subscribed: bool,
}

pub async fn sms_box(
    state: &AppState,
    workspace_id: &str,
    contact: &Contact,
    subscribed: bool,
) -> UiResult<Option<SmsBox>> {
    let records = state.store.channels(workspace_id, Some("sms")).await?;
    let Some(first) = records.first().cloned() else {
        return Ok(None);
    };
    let channels = records
        .iter()
        .map(|r| Opt {
            value: r.id.clone(),
            label: r.name.clone(),
            selected: r.id == first.id,
        })
        .collect();
    let senders = match decode_sms(state, first) {
        Ok(c) => c
            .sms
            .senders
            .iter()
            .map(|s| Opt {
                value: s.clone(),
                label: s.clone(),
                selected: Some(s) == c.sms.default_sender.as_ref(),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    Ok(Some(SmsBox {
        channels,
        senders,
        number: sms_number(contact).map(str::to_string),
        subscribed,
    }))
}

pub struct TimelineRow {
    pub kind: String,
    pub at: String,
    pub message_id: String,
    pub campaign: String,
    pub sender: String,
    pub details: String,
    /// The key of a voice event (`VOICE_KEY_PRESSED`, `VOICE_UNSUBSCRIBED`).
    pub key: String,
}

/// The contact's latest timeline entries, newest first; details read as
/// the contact panel reads them (actors by name, never by id).
pub async fn timeline(
    state: &AppState,
    workspace_id: &str,
    contact_id: &str,
    tz: &chrono_tz::Tz,
) -> UiResult<Vec<TimelineRow>> {
    let names = super::contact_panel::user_names(state, workspace_id).await?;
    let actor_name = |actor: &str| names.get(actor).cloned().unwrap_or_else(|| actor.to_string());
    Ok(state
        .store
        .timeline(workspace_id, contact_id, None, TIMELINE_SHOWN)
        .await?
        .into_iter()
        .map(|e| TimelineRow {
            key: if e.kind.starts_with("VOICE_") {
                serde_json::from_str::<Value>(&e.details)
                    .ok()
                    .and_then(|d| d["key"].as_str().map(str::to_string))
                    .unwrap_or_default()
            } else {
                String::new()
            },
            at: local_time(e.at, tz),
            message_id: e.message_id.unwrap_or_default(),
            campaign: e.campaign.unwrap_or_default(),
            sender: e.sender.unwrap_or_default(),
            details: super::contact_panel::summary(&e.details, None, &actor_name),
            kind: e.kind,
        })
        .collect())
}

#[derive(Deserialize)]
pub struct SmsForm {
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    campaign: String,
    /// A checkbox: present when ticked.
    shorten_urls: Option<String>,
    #[serde(default)]
    policy: String,
    #[serde(default)]
    utm_source: String,
    #[serde(default)]
    utm_medium: String,
    #[serde(default)]
    utm_campaign: String,
}

impl SmsForm {
    fn utm(&self) -> Utm {
        let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Utm {
            source: given(&self.utm_source),
            medium: given(&self.utm_medium),
            campaign: given(&self.utm_campaign),
            term: None,
            content: None,
        }
    }

    fn policy(&self) -> Option<recado_sms::Policy> {
        match self.policy.as_str() {
            "transliterate" => Some(recado_sms::Policy::Transliterate),
            "auto" => Some(recado_sms::Policy::Auto),
            _ => None,
        }
    }
}

/// `POST /contacts/{id}/sms-meter`: the meter of the text as it will be
/// sent to this contact on the chosen channel.
pub async fn meter(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<SmsForm>,
) -> UiResult<Response> {
    let ws = state.store.workspace(posted.user.workspace_id()).await?;
    let contact = contacts_for(&state, &ws).get(&id).await?;
    let f = &posted.form;
    let channel = load_sms(&state, &ws.id, &f.channel_id).await?;
    let text = composed_sample(
        &state,
        &ws.id,
        Some(&contact),
        &f.text,
        &f.utm(),
        f.shorten_urls.is_some(),
    );
    let policy = f.policy().unwrap_or(channel.sms.policy);
    Ok(Json(measure(&text, policy, channel.sms.max_segments)).into_response())
}

fn back(contact_id: &str, query: &str) -> Response {
    Redirect::to(&format!("/contacts/{}?{query}#sms", urlencode(contact_id))).into_response()
}

/// `POST /contacts/{id}/sms`: sends through the same path as the API and
/// workflows; a refusal comes back to the page with its code.
pub async fn send_sms(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<SmsForm>,
) -> UiResult<Response> {
    let ws = state.store.workspace(posted.user.workspace_id()).await?;
    let contact = contacts_for(&state, &ws).get(&id).await?;
    let f = &posted.form;
    let refused = |code: &str| back(&contact.id, &format!("sms_error={}", urlencode(code)));
    let channel = match load_sms(&state, &ws.id, &f.channel_id).await {
        Ok(c) => c,
        Err(e) if !e.is_internal() => return Ok(refused("invalid_channel")),
        Err(e) => return Err(e.into()),
    };
    let Some(to) = sms_number(&contact).map(str::to_string) else {
        return Ok(refused("no_phone"));
    };
    let asked = Some(f.from.trim()).filter(|s| !s.is_empty());
    let from = match channel.sms.pick_sender(asked) {
        Ok(from) => from,
        Err(e) => return Ok(refused(e.code)),
    };
    if f.text.trim().is_empty() {
        return Ok(refused("empty_text"));
    }
    let campaign = Some(f.campaign.trim().to_string()).filter(|c| !c.is_empty());
    let plan = SmsPlan {
        workspace: &ws,
        channel: &channel,
        contact: &contact,
        to,
        from,
        text: f.text.clone(),
        campaign,
        source: SendSource::Crm,
        policy: f.policy(),
        national_language: None,
        shorten_urls: f.shorten_urls.is_some(),
        utm: f.utm(),
        subscriptions: None,
    };
    match send(&state, plan).await {
        Ok(message) => Ok(back(
            &contact.id,
            &format!("sms_sent={}", urlencode(message.id.as_ref())),
        )),
        Err(e) if !e.is_internal() => Ok(refused(e.code)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /contacts/{id}/properties`: every `prop_{name}` field sets that
/// property (empty clears it); `new_name` and `new_value` add one.
/// A form whose fields are read from `Posted::fields`.
#[derive(Deserialize)]
pub struct AnyForm {}

pub async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<AnyForm>,
) -> UiResult<Response> {
    let ws = state.store.workspace(posted.user.workspace_id()).await?;
    let contacts = contacts_for(&state, &ws);
    let existing = contacts.get(&id).await?;
    let mut changes = Map::new();
    for (key, value) in &posted.fields {
        if let Some(name) = key.strip_prefix("prop_") {
            let value = value.trim();
            let unchanged = existing.properties.get(name).map(String::as_str) == Some(value);
            if !unchanged {
                changes.insert(
                    name.to_string(),
                    if value.is_empty() {
                        Value::Null
                    } else {
                        Value::String(value.to_string())
                    },
                );
            }
        }
    }
    let field = |k: &str| {
        posted
            .fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.trim().to_string())
    };
    if let (Some(name), Some(value)) = (field("new_name").filter(|n| !n.is_empty()), field("new_value")) {
        changes.insert(name, Value::String(value));
    }
    let outcome = match check_properties(&changes) {
        Ok(checked) => contacts.update(existing, checked).await.map(drop),
        Err(e) => Err(e),
    };
    let contact_id = id.clone();
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/contacts/{}?saved=1#properties", urlencode(&contact_id))).into_response()),
        Err(e) if !e.is_internal() => {
            let to = format!(
                "/contacts/{}?property_error={}#properties",
                urlencode(&contact_id),
                urlencode(&e.message)
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
