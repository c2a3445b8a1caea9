//! The conversation page: messages, session countdown, the composer (or the
//! template picker once the session is closed), ticket actions and the
//! contact panel; and the messages fragment live updates fetch.

use super::contact_panel::{panel, ContactPanel, LEGAL_BASES};
use super::page::{html, timezone, Chrome, Opt, UiResult};
use super::render::{cards, MessageCard};
use super::session::WebUser;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{Html, IntoResponse, Response};
use recado_app::inbox::filters::PRIORITIES;
use recado_app::inbox::service::{self, SessionView};
use recado_app::AppState;
use recado_channels::whatsapp::TemplateVariables;
use serde::Deserialize;

/// An approved template offered by the picker, with its parameter fields.
pub struct TemplateChoice {
    /// `name|language`, the picker's value.
    pub key: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub body_text: String,
    pub header_params: Vec<usize>,
    pub body_params: Vec<usize>,
    /// `(button index, parameter number)` pairs.
    pub button_params: Vec<(usize, usize)>,
}

pub struct Notice {
    pub error: bool,
    pub text: String,
}

pub struct TicketBox {
    pub status: String,
    pub owner_id: String,
    pub priority: String,
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    chrome: Chrome,
    thread_id: String,
    channel: String,
    contact: ContactPanel,
    session: SessionView,
    countdown: String,
    cards: Vec<MessageCard>,
    ticket: TicketBox,
    owners: Vec<Opt>,
    priorities: Vec<Opt>,
    templates: Vec<TemplateChoice>,
    notice: Option<Notice>,
    subscribe_open: bool,
    legal_bases: Vec<(&'static str, &'static str)>,
    /// This page, where the contact panel's forms come back to.
    panel_base: String,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesFragment {
    cards: Vec<MessageCard>,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    error: Option<String>,
    sent: Option<String>,
    changed: Option<String>,
    subscribed: Option<String>,
    subscribe: Option<String>,
}

/// `5 h 12 min`: what is left of the session, never more than is left.
pub fn countdown(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match (minutes / 60, minutes % 60) {
        (0, 0) => "less than a minute".into(),
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// Words for a refusal code, shown where the agent acted.
pub fn refusal_text(code: &str, channel: &str) -> String {
    let channel_name = match channel {
        "sms" => "SMS",
        "voice" => "voice calls",
        _ => "WhatsApp",
    };
    match code {
        "outside_session_window" => {
            "Not sent: the 24-hour session is closed. Only an approved template can be sent now.".into()
        }
        "not_subscribed" if channel == "whatsapp" => {
            "Not sent: the contact is not subscribed to WhatsApp, so templates cannot be sent to them.".into()
        }
        "not_subscribed" => format!(
            "Not sent: the contact is not subscribed to {channel_name}, so business messages cannot be sent to them."
        ),
        "too_many_segments" => "Not sent: the SMS needs more parts than this channel allows. Shorten it.".into(),
        "template_not_supported" => "Templates are WhatsApp messages; answer an SMS with text.".into(),
        "invalid_sender" if channel == "whatsapp" => "Not sent: that number is not one of this account's.".into(),
        "invalid_sender" => "Not sent: this channel has no sender to answer from. An admin can set one.".into(),
        "no_phone" => "The contact has no phone number.".into(),
        "quota_exhausted" => "Not sent: the monthly WhatsApp conversation limit is reached.".into(),
        "messaging_limit_reached" => "Not sent: the account's messaging limit for the last 24 hours is reached.".into(),
        "template_not_approved" => "Not sent: this template is not approved on the account.".into(),
        "template_parameters" => "Not sent: fill every parameter of the template.".into(),
        "empty_text" | "content_required" => "Write a message first.".into(),
        "invalid_content" => "Not sent: the message is too long or not valid for WhatsApp.".into(),
        "no_whatsapp_phone" => "The contact has no valid WhatsApp number.".into(),
        "channel_not_supported" => "Replies on this channel are not available from the inbox.".into(),
        "channel_deleted" => "The channel of this conversation was deleted.".into(),
        "legal_basis_required" => "Subscribing needs a legal basis and an explanation.".into(),
        "resubscribe_not_allowed" => {
            "The contact opted out; only a manual change with a legal basis can subscribe them again.".into()
        }
        "invalid_owner" => "That user is not in this workspace.".into(),
        "invalid_status" | "invalid_priority" | "invalid_channel" | "invalid_legal_basis" => {
            "That choice is not one the form offers.".into()
        }
        other => format!("Not possible ({other})."),
    }
}

pub fn template_choices(templates: Vec<recado_store::whatsapp::TemplateRecord>) -> Vec<TemplateChoice> {
    templates
        .into_iter()
        .filter(|t| t.status.is_sendable())
        .map(|t| {
            let definition = recado_app::whatsapp::send::template_of(&t);
            let vars: TemplateVariables = definition.variables();
            let body_text = definition
                .components
                .as_array()
                .and_then(|cs| {
                    cs.iter()
                        .find(|c| c["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("BODY")))
                })
                .and_then(|c| c["text"].as_str())
                .unwrap_or("")
                .to_string();
            TemplateChoice {
                key: format!("{}|{}", t.name, t.language),
                header_params: (1..=vars.header).collect(),
                body_params: (1..=vars.body).collect(),
                button_params: vars
                    .buttons
                    .iter()
                    .flat_map(|(index, n)| (1..=*n).map(move |p| (*index, p)))
                    .collect(),
                name: t.name,
                language: t.language,
                category: t.category,
                body_text,
            }
        })
        .collect()
}

pub async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> UiResult<Response> {
    let ws = user.workspace_id().to_string();
    let c = service::conversation(&state, &ws, &id).await?;
    state.store.mark_thread_read(&ws, &c.thread.id).await?;
    let tz = timezone(&state, &ws).await?;
    let contact = panel(&state, &ws, &c.thread.contact_id, &tz).await?;
    let users = state.store.list_users(&ws, None, 500).await?;
    let templates = if c.session.open {
        Vec::new()
    } else {
        template_choices(state.store.templates(&ws, Some(&c.thread.channel_id)).await?)
    };
    let notice = match (&q.error, &q.sent, &q.changed, &q.subscribed) {
        (Some(code), ..) => Some(Notice {
            error: true,
            text: refusal_text(code, &c.thread.channel),
        }),
        (None, Some(_), ..) => Some(Notice {
            error: false,
            text: "Message queued for sending.".into(),
        }),
        (None, None, Some(_), _) => Some(Notice {
            error: false,
            text: "Ticket updated.".into(),
        }),
        (None, None, None, Some(_)) => Some(Notice {
            error: false,
            text: "Subscription changed.".into(),
        }),
        _ => None,
    };
    let ticket = match &c.ticket {
        Some(t) => TicketBox {
            status: t.status.clone(),
            owner_id: t.owner_id.clone().unwrap_or_default(),
            priority: t.priority.clone(),
        },
        None => TicketBox {
            status: "none".into(),
            owner_id: String::new(),
            priority: "normal".into(),
        },
    };
    let chrome = Chrome::build(&state, &user, &contact.name, "").await?;
    html(ConversationPage {
        chrome,
        thread_id: c.thread.id.to_string(),
        channel: c.thread.channel.clone(),
        countdown: countdown(c.session.remaining_ms),
        cards: cards(&c.messages, &c.events, &tz),
        contact,
        session: c.session,
        owners: users
            .into_iter()
            .map(|u| Opt {
                selected: u.id == ticket.owner_id,
                value: u.id,
                label: u.name,
            })
            .collect(),
        priorities: PRIORITIES
            .iter()
            .map(|p| Opt {
                value: p.to_string(),
                label: p.to_string(),
                selected: *p == ticket.priority,
            })
            .collect(),
        ticket,
        templates,
        notice,
        subscribe_open: q.subscribe.is_some(),
        legal_bases: LEGAL_BASES.to_vec(),
        panel_base: format!("/inbox/threads/{}", c.thread.id),
    })
}

/// `GET /inbox/threads/{id}/messages`: the messages as HTML, with the
/// session state in a header so the page knows when to switch composers.
pub async fn messages_fragment(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> UiResult<Response> {
    let ws = user.workspace_id().to_string();
    let c = service::conversation(&state, &ws, &id).await?;
    state.store.mark_thread_read(&ws, &c.thread.id).await?;
    let tz = timezone(&state, &ws).await?;
    let body = MessagesFragment {
        cards: cards(&c.messages, &c.events, &tz),
    }
    .render()?;
    let mut response = Html(body).into_response();
    response.headers_mut().insert(
        "x-session-open",
        HeaderValue::from_static(if c.session.open { "true" } else { "false" }),
    );
    Ok(response)
}
