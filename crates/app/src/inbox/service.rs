//! What the help-desk API and the web UI share: loading a thread with its
//! messages and session, answering it through the one WhatsApp send path,
//! and changing its ticket.

use super::filters::{check_owner, PRIORITIES, STATUSES};
use crate::contacts::service::contacts_for;
use crate::error::{AppError, AppResult};
use crate::sms::send::{sms_number, SmsPlan};
use crate::whatsapp::send::{send, SendPlan, SendSource, WhatsAppContent};
use crate::AppState;
use recado_channels::whatsapp::OutboundContent;
use recado_core::whatsapp::SessionWindow;
use recado_store::inbox::{InboxThread, TicketChange};
use recado_store::messages::{MessageEvent, MessageRecord, ThreadRecord, TicketRecord};
use recado_store::StoreError;
use serde::Serialize;
use std::collections::HashMap;

/// The most messages a conversation shows (the newest ones).
pub const CONVERSATION_LIMIT: i64 = 500;

#[derive(Serialize, utoipa::ToSchema, Debug, Clone)]
pub struct TicketView {
    pub id: String,
    pub status: String,
    pub owner_id: Option<String>,
    pub priority: String,
}

impl From<TicketRecord> for TicketView {
    fn from(t: TicketRecord) -> Self {
        TicketView {
            id: t.id,
            status: t.status,
            owner_id: t.owner_id,
            priority: t.priority,
        }
    }
}

/// A thread in a list (API.md "Help desk").
#[derive(Serialize, utoipa::ToSchema, Debug, Clone)]
pub struct ThreadItem {
    pub id: String,
    pub contact_id: String,
    pub contact_name: Option<String>,
    pub channel: String,
    pub channel_id: String,
    pub ticket: Option<TicketView>,
    pub last_message_at: String,
    pub unread: i64,
}

/// The name to show for a contact: first and last name, when it has them.
pub fn contact_name(properties_json: Option<&str>) -> Option<String> {
    let props: serde_json::Value = serde_json::from_str(properties_json?).ok()?;
    let name = [props["firstname"].as_str(), props["lastname"].as_str()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

impl From<InboxThread> for ThreadItem {
    fn from(t: InboxThread) -> Self {
        let ticket = match (t.ticket_id, t.ticket_status) {
            (Some(id), Some(status)) => Some(TicketView {
                id,
                status,
                owner_id: t.owner_id,
                priority: t.priority.unwrap_or_else(|| "normal".into()),
            }),
            _ => None,
        };
        ThreadItem {
            contact_name: contact_name(t.contact_properties.as_deref()),
            id: t.id,
            contact_id: t.contact_id,
            channel: t.channel,
            channel_id: t.channel_id,
            ticket,
            last_message_at: recado_core::clock::to_rfc3339(t.last_message_at),
            unread: t.unread,
        }
    }
}

/// The customer-service window of a thread as the API and UI show it.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone)]
pub struct SessionView {
    pub open: bool,
    pub expires_at: Option<String>,
    /// Milliseconds left (0 when closed), for the countdown.
    pub remaining_ms: i64,
}

pub fn session_of(thread: &ThreadRecord, now: i64) -> SessionView {
    let window = SessionWindow {
        last_inbound_at_ms: thread.last_inbound_at,
    };
    let open = thread.channel == "whatsapp" && window.is_open(now);
    SessionView {
        open,
        expires_at: if open {
            window.expires_at_ms().map(recado_core::clock::to_rfc3339)
        } else {
            None
        },
        remaining_ms: if open { window.remaining_ms(now) } else { 0 },
    }
}

/// A thread of the workspace, or 404: another workspace's thread is not found.
pub async fn load_thread(state: &AppState, workspace_id: &str, id: &str) -> AppResult<ThreadRecord> {
    state.store.thread(workspace_id, id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("thread"),
        other => other.into(),
    })
}

/// A thread with everything its page shows.
pub struct Conversation {
    pub thread: ThreadRecord,
    pub ticket: Option<TicketRecord>,
    pub messages: Vec<MessageRecord>,
    pub events: HashMap<String, Vec<MessageEvent>>,
    pub session: SessionView,
}

pub async fn conversation(state: &AppState, workspace_id: &str, id: &str) -> AppResult<Conversation> {
    let thread = load_thread(state, workspace_id, id).await?;
    let ticket = state.store.current_ticket(&thread.id).await?;
    let messages = state
        .store
        .thread_messages(workspace_id, &thread.id, CONVERSATION_LIMIT)
        .await?;
    let ids: Vec<String> = messages.iter().map(|m| m.id.to_string()).collect();
    let mut events: HashMap<String, Vec<MessageEvent>> = HashMap::new();
    for e in state.store.events_of_messages(&ids).await? {
        events.entry(e.message_id.clone()).or_default().push(e);
    }
    let session = session_of(&thread, state.clock.now_ms());
    Ok(Conversation {
        thread,
        ticket,
        messages,
        events,
        session,
    })
}

/// A thread's channel that no longer exists is a state conflict, not a 404
/// of the thread.
fn channel_gone(e: AppError) -> AppError {
    match e.code {
        "not_found" => AppError::conflict("channel_deleted", "the channel of this thread was deleted"),
        _ => e,
    }
}

/// Answers a thread with every rule and refusal of `POST /messages` (it is
/// the same send path): on WhatsApp free-form text inside the session or a
/// template; on SMS a text from the number the contact wrote to.
pub async fn reply(state: &AppState, thread: &ThreadRecord, content: WhatsAppContent) -> AppResult<MessageRecord> {
    match thread.channel.as_str() {
        "whatsapp" => reply_whatsapp(state, thread, content).await,
        "sms" => reply_sms(state, thread, content).await,
        other => Err(AppError::invalid(
            "channel_not_supported",
            "channel",
            format!("replies from the inbox are not available on {other} threads"),
        )),
    }
}

async fn reply_sms(state: &AppState, thread: &ThreadRecord, content: WhatsAppContent) -> AppResult<MessageRecord> {
    let text = match content {
        WhatsAppContent::FreeForm(OutboundContent::Text { body, .. }) => body,
        WhatsAppContent::Template(_) => {
            return Err(AppError::invalid(
                "template_not_supported",
                "template",
                "templates are WhatsApp messages; an SMS thread is answered with text",
            ))
        }
        WhatsAppContent::FreeForm(_) => {
            return Err(AppError::invalid("invalid_content", "text", "an SMS reply is text"));
        }
    };
    let ws = state.store.workspace(&thread.workspace_id).await?;
    let channel = crate::channels::registry::load_sms(state, &ws.id, &thread.channel_id)
        .await
        .map_err(channel_gone)?;
    // The reply comes from the number the contact wrote to when the channel
    // still has it, else from the channel's default sender.
    let from = channel
        .sms
        .pick_sender(Some(&thread.account))
        .or_else(|_| channel.sms.pick_sender(None))?;
    let contact = contacts_for(state, &ws).get(&thread.contact_id).await?;
    let to = match state.store.last_inbound_sender(&thread.id).await? {
        Some(number) => number,
        None => sms_number(&contact)
            .map(str::to_string)
            .ok_or_else(|| AppError::invalid("no_phone", "contact_id", "the contact has no phone number"))?,
    };
    crate::sms::send::send(
        state,
        SmsPlan {
            workspace: &ws,
            channel: &channel,
            contact: &contact,
            to,
            from,
            text,
            campaign: None,
            source: SendSource::Inbox,
            policy: None,
            national_language: None,
            shorten_urls: false,
            utm: Default::default(),
            subscriptions: None,
        },
    )
    .await
}

async fn reply_whatsapp(state: &AppState, thread: &ThreadRecord, content: WhatsAppContent) -> AppResult<MessageRecord> {
    let ws = state.store.workspace(&thread.workspace_id).await?;
    let channel = crate::channels::registry::load(state, &ws.id, &thread.channel_id)
        .await
        .map_err(channel_gone)?;
    let contact = contacts_for(state, &ws).get(&thread.contact_id).await?;
    send(
        state,
        SendPlan {
            workspace: &ws,
            channel: &channel,
            account: thread.account.clone(),
            contact: &contact,
            content,
            campaign: None,
            source: SendSource::Inbox,
        },
    )
    .await
}

/// A ticket change as users ask for it, before it is checked.
#[derive(Debug, Default)]
pub struct TicketPatch {
    pub status: Option<String>,
    pub owner_id: Option<Option<String>>,
    pub priority: Option<String>,
}

/// Checks and applies a ticket change (422 with the field for a value that
/// is not known, an owner of another workspace included).
pub async fn change_ticket(
    state: &AppState,
    workspace_id: &str,
    thread_id: &str,
    patch: TicketPatch,
) -> AppResult<TicketRecord> {
    if patch.status.is_none() && patch.owner_id.is_none() && patch.priority.is_none() {
        return Err(AppError::invalid(
            "nothing_to_change",
            "status",
            "give at least one of status, owner_id and priority",
        ));
    }
    if let Some(s) = &patch.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(AppError::invalid(
                "invalid_status",
                "status",
                "status is `open` or `closed`",
            ));
        }
    }
    if let Some(p) = &patch.priority {
        if !PRIORITIES.contains(&p.as_str()) {
            return Err(AppError::invalid(
                "invalid_priority",
                "priority",
                "priority is `low`, `normal`, `high` or `urgent`",
            ));
        }
    }
    if let Some(Some(owner)) = &patch.owner_id {
        check_owner(state, workspace_id, owner, "owner_id").await?;
    }
    let change = TicketChange {
        status: patch.status,
        owner_id: patch.owner_id,
        priority: patch.priority,
    };
    state
        .store
        .change_ticket(workspace_id, thread_id, &change, state.clock.now_ms())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("thread"),
            other => other.into(),
        })
}
