//! Contact pages: finding a contact by name, property or any written form of
//! their number; and a contact's page with the panel, their conversations,
//! and the form that starts a WhatsApp conversation with an approved
//! template (the only way a business may write first on WhatsApp).

use super::compose::template_input;
use super::contact_crm::{SmsBox, TimelineRow};
use super::contact_panel::{panel, ContactPanel, LEGAL_BASES};
use super::contact_voice::{voice_box, VoiceBox, VoicePosted};
use super::conversation::{refusal_text, template_choices, Notice, TemplateChoice};
use super::page::{html, local_time, timezone, Chrome, Opt, UiResult};
use super::session::{urlencode, Posted, WebUser};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::channels::registry::decode;
use recado_app::contacts::service::contacts_for;
use recado_app::inbox::service::contact_name;
use recado_app::whatsapp::send::{send, SendPlan, SendSource, WhatsAppContent};
use recado_app::workflows::pages;
use recado_app::AppState;
use recado_flow::RunStatus;
use recado_store::contacts::Contact;
use serde::Deserialize;

pub struct ConversationRow {
    pub id: String,
    pub channel: String,
    pub account: String,
    pub time: String,
    pub unread: i64,
}

/// The "start a WhatsApp conversation" form of one WhatsApp channel.
pub struct StartBox {
    /// Every WhatsApp channel of the workspace (the form shows one at a time).
    pub channels: Vec<Opt>,
    pub channel_id: String,
    /// The channel's phone numbers to send from.
    pub senders: Vec<Opt>,
    pub templates: Vec<TemplateChoice>,
    pub subscribed: bool,
}

/// A run of the contact through a workflow, as the contact page lists it.
pub struct RunLine {
    pub workflow_id: String,
    pub workflow: String,
    pub status: String,
    pub node_id: String,
    pub entered: String,
    pub ended: String,
    pub reason: String,
}

/// The "enrol in a workflow" form: the workspace's active workflows.
pub struct EnrolBox {
    pub workflows: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    chrome: Chrome,
    contact: ContactPanel,
    conversations: Vec<ConversationRow>,
    start: Option<StartBox>,
    notice: Option<Notice>,
    subscribe_open: bool,
    legal_bases: Vec<(&'static str, &'static str)>,
    panel_base: String,
    runs: Vec<RunLine>,
    enrol: Option<EnrolBox>,
    enrol_notice: Option<(bool, String)>,
    sms: Option<SmsBox>,
    sms_notice: Option<(bool, String)>,
    voice: Option<VoiceBox>,
    voice_notice: Option<(bool, String)>,
    timeline: Vec<TimelineRow>,
    properties: Vec<(String, String)>,
    property_notice: Option<(bool, String)>,
}

/// The name a list shows: first and last name, else a number, else the id.
pub fn display_name(contact: &Contact) -> String {
    contact_name(serde_json::to_string(&contact.properties).ok().as_deref())
        .or_else(|| contact.phones.values().next().cloned())
        .unwrap_or_else(|| "Unknown contact".into())
}

#[derive(Deserialize, Default)]
pub struct ContactQueryParams {
    channel: Option<String>,
    error: Option<String>,
    subscribed: Option<String>,
    subscribe: Option<String>,
    enrolled: Option<String>,
    enrol_skipped: Option<String>,
    enrol_error: Option<String>,
    sms_sent: Option<String>,
    sms_error: Option<String>,
    voice_sent: Option<String>,
    voice_channel: Option<String>,
    saved: Option<String>,
    property_error: Option<String>,
}

/// `GET /contacts/{id}`.
pub async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<ContactQueryParams>,
) -> UiResult<Response> {
    render(&state, &user, &id, q, None).await
}

/// The contact's page; with `voice` (a refused voice message) the form
/// shows what was posted and the refusal, with status 422.
pub async fn render(
    state: &AppState,
    user: &WebUser,
    id: &str,
    q: ContactQueryParams,
    voice: Option<VoicePosted>,
) -> UiResult<Response> {
    let state = state.clone();
    let user = user.clone();
    let id = id.to_string();
    let refused = voice.as_ref().is_some_and(|v| v.error.is_some());
    let ws = user.workspace_id().to_string();
    let tz = timezone(&state, &ws).await?;
    let contact = panel(&state, &ws, &id, &tz).await?;
    let conversations = state
        .store
        .threads_of_contact(&ws, &contact.id)
        .await?
        .into_iter()
        .map(|t| ConversationRow {
            time: local_time(t.last_message_at, &tz),
            id: t.id.into(),
            channel: t.channel,
            account: t.account,
            unread: t.unread,
        })
        .collect();
    let start = start_box(&state, &ws, q.channel.as_deref(), &contact).await?;
    let notice = match (&q.error, &q.subscribed) {
        (Some(code), _) => Some(Notice {
            error: true,
            text: refusal_text(code, "whatsapp"),
        }),
        (None, Some(_)) => Some(Notice {
            error: false,
            text: "Subscription changed.".into(),
        }),
        _ => None,
    };
    let runs = pages::contact_runs(&state, &ws, &contact.id)
        .await?
        .into_iter()
        .map(|r| RunLine {
            workflow_id: r.run.workflow_id,
            workflow: r.workflow_name,
            // As the runs API says it: ready, running and waiting are active.
            status: match r.run.status {
                RunStatus::Ready | RunStatus::Running | RunStatus::Waiting => "active".into(),
                other => other.as_str().to_string(),
            },
            node_id: r.run.node_id,
            entered: local_time(r.run.entered_at, &tz),
            ended: r.run.ended_at.map(|t| local_time(t, &tz)).unwrap_or_default(),
            reason: r.run.end_reason.unwrap_or_default(),
        })
        .collect();
    let enrol = if user.is_admin() {
        let workflows = pages::enrollable(&state, &ws)
            .await?
            .into_iter()
            .map(|w| Opt {
                value: w.id,
                label: w.name,
                selected: false,
            })
            .collect();
        Some(EnrolBox { workflows })
    } else {
        None
    };
    let enrol_notice = super::workflows::reports::enrol_notice(
        q.enrolled.is_some(),
        q.enrol_skipped.as_deref(),
        q.enrol_error.as_deref(),
    );
    let stored = contacts_for(&state, &state.store.workspace(&ws).await?)
        .get(&contact.id)
        .await?;
    let sms_subscribed = contact
        .subscriptions
        .iter()
        .any(|s| s.channel == "sms" && s.status == "subscribed");
    let sms = super::contact_crm::sms_box(&state, &ws, &stored, sms_subscribed).await?;
    let sms_notice = match (&q.sms_error, &q.sms_sent) {
        (Some(code), _) => Some((true, refusal_text(code, "sms"))),
        (None, Some(id)) => Some((false, format!("SMS {id} queued for sending."))),
        _ => None,
    };
    let voice_subscribed = contact
        .subscriptions
        .iter()
        .any(|s| s.channel == "voice" && s.status == "subscribed");
    let voice_box = voice_box(
        &state,
        &ws,
        &stored,
        voice_subscribed,
        q.voice_channel.as_deref(),
        voice,
    )
    .await?;
    let voice_notice = q.voice_sent.as_ref().map(|id| {
        (
            false,
            format!("Voice message {id} queued: the call is placed and its events show on the timeline."),
        )
    });
    let property_notice = match (&q.property_error, &q.saved) {
        (Some(text), _) => Some((true, text.clone())),
        (None, Some(_)) => Some((false, "Properties saved.".to_string())),
        _ => None,
    };
    let timeline = super::contact_crm::timeline(&state, &ws, &contact.id, &tz).await?;
    let properties = stored.properties.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let chrome = Chrome::build(&state, &user, &contact.name, "").await?;
    let page = html(ContactPage {
        sms,
        sms_notice,
        voice: voice_box,
        voice_notice,
        timeline,
        properties,
        property_notice,
        runs,
        enrol,
        enrol_notice,
        chrome,
        panel_base: format!("/contacts/{}", contact.id),
        contact,
        conversations,
        start,
        notice,
        subscribe_open: q.subscribe.is_some(),
        legal_bases: LEGAL_BASES.to_vec(),
    })?;
    if refused {
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    Ok(page)
}

async fn start_box(
    state: &AppState,
    workspace_id: &str,
    asked: Option<&str>,
    contact: &ContactPanel,
) -> UiResult<Option<StartBox>> {
    let records = state.store.channels(workspace_id, Some("whatsapp")).await?;
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
    let loaded = decode(state, chosen)?;
    let senders = loaded
        .whatsapp
        .phone_numbers
        .iter()
        .map(|n| Opt {
            value: n.phone_number_id.clone(),
            label: n
                .display_phone_number
                .clone()
                .unwrap_or_else(|| n.phone_number_id.clone()),
            selected: false,
        })
        .collect();
    let templates = template_choices(state.store.templates(workspace_id, Some(&channel_id)).await?);
    let subscribed = contact
        .subscriptions
        .iter()
        .any(|s| s.channel == "whatsapp" && s.status == "subscribed");
    Ok(Some(StartBox {
        channels,
        channel_id,
        senders,
        templates,
        subscribed,
    }))
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    template: String,
}

/// `POST /contacts/{id}/whatsapp`: sends the chosen template through the one
/// WhatsApp send path (consent, template and quota rules included) and opens
/// the conversation it starts.
pub async fn start_whatsapp(
    State(state): State<AppState>,
    Path(contact_id): Path<String>,
    posted: Posted<StartForm>,
) -> UiResult<Response> {
    let ws = state.store.workspace(posted.user.workspace_id()).await?;
    let contact = contacts_for(&state, &ws).get(&contact_id).await?;
    let f = &posted.form;
    let refused = |code: &str| {
        Redirect::to(&format!(
            "/contacts/{}?channel={}&error={}#start",
            urlencode(&contact.id),
            urlencode(&f.channel_id),
            urlencode(code)
        ))
        .into_response()
    };
    let channel = match recado_app::channels::registry::load(&state, &ws.id, &f.channel_id).await {
        Ok(c) => c,
        Err(e) if !e.is_internal() => return Ok(refused("invalid_channel")),
        Err(e) => return Err(e.into()),
    };
    let account = match channel.whatsapp.phone_numbers.first() {
        Some(first) if f.from.is_empty() => first.phone_number_id.clone(),
        _ if channel.whatsapp.has_number(&f.from) => f.from.clone(),
        _ => return Ok(refused("invalid_sender")),
    };
    let Some(input) = template_input(&f.template, &posted.fields) else {
        return Ok(refused("template_not_approved"));
    };
    let plan = SendPlan {
        workspace: &ws,
        channel: &channel,
        account,
        contact: &contact,
        content: WhatsAppContent::Template(input),
        campaign: None,
        source: SendSource::Crm,
    };
    match send(&state, plan).await {
        Ok(message) => Ok(match message.thread_id {
            Some(thread) => Redirect::to(&format!("/inbox/threads/{thread}?sent=1#composer")).into_response(),
            None => Redirect::to(&format!("/contacts/{}", urlencode(&contact.id))).into_response(),
        }),
        Err(e) if !e.is_internal() => Ok(refused(e.code)),
        Err(e) => Err(e.into()),
    }
}
