//! A voice message from a contact's page (seed 003's "Enviar mensagem de
//! voz"): the phone property and country, a caller id from the channel's
//! list, a spoken text (language, voice, tokens) or an audio URL, with a
//! Listen button that plays it as this contact will hear it. Sent through
//! the one voice send path — consent to voice, the number, the caller id,
//! the campaign `CRM_VOICE_{YEAR}_{MONTH}` unless named — exactly as the
//! API sends it.

use super::narration::NarrationForm;
use super::page::{Opt, UiResult};
use super::session::{urlencode, Posted};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::channels::registry::decode_voice;
use recado_app::contacts::service::contacts_for;
use recado_app::messages::request::pick_voice_channel;
use recado_app::voice::send::{number_of, send, CallContent, VoicePlan, DEFAULT_PHONE_PROPERTY};
use recado_app::whatsapp::send::SendSource;
use recado_app::AppState;
use recado_core::voice::definition::Dialling;
use recado_store::contacts::Contact;
use serde_json::{Map, Value};

/// The "send a voice message" box of a contact's page.
pub struct VoiceBox {
    pub channels: Vec<Opt>,
    pub channel_id: String,
    pub caller_ids: Vec<Opt>,
    pub phone_properties: Vec<Opt>,
    pub country: String,
    pub narration: NarrationForm,
    pub campaign: String,
    /// Where the call goes with the chosen property, if the contact has a number there.
    pub number: Option<String>,
    pub subscribed: bool,
    /// A refusal of the last send: (field, message).
    pub error: Option<(String, String)>,
}

impl VoiceBox {
    /// The refusal of `field`, if it names exactly that field.
    pub fn error_for(&self, field: &str) -> Option<String> {
        self.error.as_ref().filter(|(f, _)| f == field).map(|(_, m)| m.clone())
    }

    /// A refusal no field shows.
    pub fn general_error(&self) -> Option<String> {
        let shown = ["caller_id", "phone_property", "country", "campaign"];
        self.error
            .as_ref()
            .filter(|(f, _)| !shown.contains(&f.as_str()) && !f.starts_with("narration"))
            .map(|(_, m)| m.clone())
    }
}

/// What was posted, to show again with its refusal.
#[derive(Clone, Debug, Default)]
pub struct VoicePosted {
    pub channel_id: String,
    pub caller_id: String,
    pub phone_property: String,
    pub country: String,
    pub narration: NarrationForm,
    pub campaign: String,
    pub error: Option<(String, String)>,
}

impl VoicePosted {
    fn of(fields: &[(String, String)]) -> VoicePosted {
        let get = |k: &str| {
            fields
                .iter()
                .find(|(f, _)| f == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        VoicePosted {
            channel_id: get("channel_id"),
            caller_id: get("caller_id"),
            phone_property: get("phone_property"),
            country: get("country"),
            narration: NarrationForm::from_fields(fields, "narration"),
            campaign: get("campaign"),
            error: None,
        }
    }

    /// The `voice` object of the API's send.
    fn definition(&self) -> Value {
        let mut o = Map::new();
        for (key, value) in [
            ("caller_id", &self.caller_id),
            ("phone_property", &self.phone_property),
            ("country", &self.country),
        ] {
            if !value.trim().is_empty() {
                o.insert(key.into(), value.trim().into());
            }
        }
        if let Some(n) = self.narration.to_value() {
            o.insert("narration".into(), n);
        }
        Value::Object(o)
    }
}

/// The box, for the channel asked (else the first voice channel); None
/// when the workspace has no voice channel.
pub async fn voice_box(
    state: &AppState,
    workspace_id: &str,
    contact: &Contact,
    subscribed: bool,
    asked: Option<&str>,
    posted: Option<VoicePosted>,
) -> UiResult<Option<VoiceBox>> {
    let records = state.store.channels(workspace_id, Some("voice")).await?;
    let posted = posted.unwrap_or_default();
    let asked = Some(posted.channel_id.as_str()).filter(|c| !c.is_empty()).or(asked);
    let Some(chosen) = records
        .iter()
        .find(|r| Some(r.id.as_str()) == asked)
        .or_else(|| records.first())
        .cloned()
    else {
        return Ok(None);
    };
    let channels = records
        .iter()
        .map(|r| Opt {
            value: r.id.clone(),
            label: r.name.clone(),
            selected: r.id == chosen.id,
        })
        .collect();
    let channel_id = chosen.id.clone();
    let caller_ids = match decode_voice(state, chosen) {
        Ok(c) => {
            let mut ids = c.voice.caller_ids.clone();
            if let Some(d) = &c.voice.default_caller_id {
                if !ids.contains(d) {
                    ids.insert(0, d.clone());
                }
            }
            let picked = Some(posted.caller_id.clone())
                .filter(|p| !p.is_empty())
                .or(c.voice.default_caller_id.clone());
            ids.into_iter()
                .map(|id| Opt {
                    selected: Some(&id) == picked.as_ref(),
                    label: if Some(&id) == c.voice.default_caller_id.as_ref() {
                        format!("{id} (default)")
                    } else {
                        id.clone()
                    },
                    value: id,
                })
                .collect()
        }
        Err(_) => Vec::new(),
    };
    let property = Some(posted.phone_property.as_str())
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_PHONE_PROPERTY)
        .to_string();
    let mut names: Vec<String> = vec![DEFAULT_PHONE_PROPERTY.to_string()];
    for name in contact.phones.keys() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    if !names.contains(&property) {
        names.push(property.clone());
    }
    let phone_properties = names
        .into_iter()
        .map(|name| Opt {
            label: match contact.phones.get(&name).or_else(|| contact.properties.get(&name)) {
                Some(number) => format!("{name} ({number})"),
                None => format!("{name} (empty)"),
            },
            selected: name == property,
            value: name,
        })
        .collect();
    let ws = state.store.workspace(workspace_id).await?;
    let dialling = Dialling {
        caller_id: None,
        phone_property: Some(property),
        country: Some(posted.country.trim().to_string()).filter(|c| !c.is_empty()),
    };
    let mut narration = if posted.narration.kind.is_empty() {
        NarrationForm::blank()
    } else {
        posted.narration.clone()
    };
    narration.prepare("narration".into());
    if let Some((field, message)) = &posted.error {
        if let Some(part) = field.strip_prefix("narration") {
            let part = part.trim_start_matches('.');
            narration.error = Some(if part.is_empty() {
                message.clone()
            } else {
                format!("{part}: {message}")
            });
        }
    }
    Ok(Some(VoiceBox {
        channels,
        channel_id,
        caller_ids,
        phone_properties,
        country: posted.country.clone(),
        narration,
        campaign: posted.campaign.clone(),
        number: number_of(&ws, contact, &dialling),
        subscribed,
        error: posted.error,
    }))
}

fn sent(contact_id: &str, message_id: &str) -> Response {
    Redirect::to(&format!(
        "/contacts/{}?voice_sent={}#voice",
        urlencode(contact_id),
        urlencode(message_id)
    ))
    .into_response()
}

/// `POST /contacts/{id}/voice`: the voice message through the API's send
/// path; a refusal shows the page again with the form as posted and the
/// message next to the field it names.
pub async fn send_voice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<super::narration::AnyFields>,
) -> UiResult<Response> {
    let ws = state.store.workspace(posted.user.workspace_id()).await?;
    let contact = contacts_for(&state, &ws).get(&id).await?;
    let mut form = VoicePosted::of(&posted.fields);
    let refused = |mut form: VoicePosted, field: String, message: String| {
        form.error = Some((field, message));
        form
    };
    let outcome = async {
        let content = CallContent::parse_message(&form.definition())?;
        let channel = pick_voice_channel(&state, &ws, Some(form.channel_id.as_str()).filter(|c| !c.is_empty())).await?;
        let campaign = Some(form.campaign.trim().to_string()).filter(|c| !c.is_empty());
        let plan = VoicePlan {
            workspace: &ws,
            channel: &channel,
            contact: &contact,
            content,
            campaign,
            source: SendSource::Crm,
            subscriptions: None,
        };
        send(&state, plan).await
    }
    .await;
    match outcome {
        Ok(message) => Ok(sent(&contact.id, message.id.as_ref())),
        Err(e) if !e.is_internal() => {
            let message = match e.code {
                "not_subscribed" | "no_phone" => super::conversation::refusal_text(e.code, "voice"),
                _ => e.message.clone(),
            };
            form = refused(form, e.field.clone().unwrap_or_default(), message);
            super::contact_page::render(&state, &posted.user, &contact.id, Default::default(), Some(form)).await
        }
        Err(e) => Err(e.into()),
    }
}
