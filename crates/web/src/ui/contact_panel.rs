//! The contact panel of a conversation: properties, subscriptions with their
//! history, the timeline, and the manual subscription change (which asks for
//! the legal basis and an explanation, as the consent rules require).

use super::page::{local_time, UiResult};
use super::session::{urlencode, Posted};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::contacts::service::contacts_for;
use recado_app::AppState;
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, LegalBasis, SubscriptionStatus};
use recado_store::consent::not_specified_record;
use serde::Deserialize;

pub struct HistoryRow {
    pub status: String,
    pub legal_basis: String,
    pub explanation: String,
    pub source: String,
    pub actor: String,
    pub at: String,
}

pub struct SubscriptionRow {
    pub channel: String,
    pub status: String,
    pub legal_basis: String,
    pub source: String,
    pub updated: String,
    pub history: Vec<HistoryRow>,
}

pub struct TimelineRow {
    pub kind: String,
    pub at: String,
    pub details: String,
}

pub struct ContactPanel {
    pub id: String,
    pub name: String,
    pub properties: Vec<(String, String)>,
    pub subscriptions: Vec<SubscriptionRow>,
    pub timeline: Vec<TimelineRow>,
}

/// The legal bases a manual subscription may give, with their labels.
pub const LEGAL_BASES: [(&str, &str); 6] = [
    ("consent", "Consent"),
    ("legitimate_interest_prospect", "Legitimate interest: prospect"),
    ("legitimate_interest_client", "Legitimate interest: client"),
    ("legitimate_interest_other", "Legitimate interest: other"),
    ("contract", "Contract"),
    ("not_applicable", "Not applicable"),
];

/// How many history entries and timeline events the panel shows.
const PANEL_ROWS: i64 = 20;

pub async fn panel(
    state: &AppState,
    workspace_id: &str,
    contact_id: &str,
    tz: &chrono_tz::Tz,
) -> UiResult<ContactPanel> {
    let ws = state.store.workspace(workspace_id).await?;
    let contact = contacts_for(state, &ws).get(contact_id).await?;
    let name = recado_app::inbox::service::contact_name(serde_json::to_string(&contact.properties).ok().as_deref())
        .or_else(|| contact.phones.values().next().cloned())
        .unwrap_or_else(|| "Unknown contact".into());
    let names = user_names(state, workspace_id).await?;
    let actor_name = |actor: &str| names.get(actor).cloned().unwrap_or_else(|| actor.to_string());
    let stored = state.store.subscriptions(workspace_id, contact_id).await?;
    let mut subscriptions = Vec::new();
    for channel in Channel::ALL {
        let r = stored
            .iter()
            .find(|r| r.channel == channel.as_str())
            .cloned()
            .unwrap_or_else(|| not_specified_record(channel));
        let history = state
            .store
            .subscription_history(workspace_id, contact_id, channel, None, PANEL_ROWS)
            .await?
            .into_iter()
            .map(|h| HistoryRow {
                status: h.status,
                legal_basis: h.legal_basis.unwrap_or_default(),
                explanation: h.explanation.unwrap_or_default(),
                source: h.source,
                actor: actor_name(&h.actor),
                at: local_time(h.at, tz),
            })
            .collect();
        subscriptions.push(SubscriptionRow {
            channel: channel.as_str().into(),
            legal_basis: r.legal_basis.unwrap_or_default(),
            source: if r.updated_at > 0 { r.source } else { String::new() },
            updated: if r.updated_at > 0 {
                local_time(r.updated_at, tz)
            } else {
                String::new()
            },
            status: r.status,
            history,
        });
    }
    let timeline = state
        .store
        .timeline(workspace_id, contact_id, None, PANEL_ROWS)
        .await?
        .into_iter()
        .map(|e| TimelineRow {
            details: summary(&e.details, e.campaign.as_deref(), &actor_name),
            kind: e.kind,
            at: local_time(e.at, tz),
        })
        .collect();
    let mut properties: Vec<(String, String)> = contact.properties.into_iter().collect();
    for (k, v) in contact.phones {
        if let Some(p) = properties.iter_mut().find(|(name, _)| *name == k) {
            p.1 = v;
        }
    }
    Ok(ContactPanel {
        id: contact.id.into(),
        name,
        properties,
        subscriptions,
        timeline,
    })
}

/// The workspace's users' names by id: changes name their actor by user id;
/// people read names.
pub async fn user_names(state: &AppState, workspace_id: &str) -> UiResult<std::collections::HashMap<String, String>> {
    Ok(state
        .store
        .list_users(workspace_id, None, 500)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

/// One line of a timeline event's details: its scalar values.
pub fn summary(details: &str, campaign: Option<&str>, actor_name: &dyn Fn(&str) -> String) -> String {
    let v: serde_json::Value = serde_json::from_str(details).unwrap_or_default();
    let mut parts: Vec<String> = v
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| *k != "channel_id")
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) if k == "actor" => Some(format!("by {}", actor_name(s))),
                    serde_json::Value::String(s) if !s.is_empty() => Some(format!("{k}: {s}")),
                    serde_json::Value::Number(n) => Some(format!("{k}: {n}")),
                    serde_json::Value::Bool(b) => Some(format!("{k}: {b}")),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(c) = campaign {
        parts.push(format!("campaign: {c}"));
    }
    parts.join(" · ")
}

#[derive(Deserialize)]
pub struct SubscribeForm {
    channel: String,
    status: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    explanation: String,
    /// The page to go back to: the conversation or the contact's page.
    #[serde(default)]
    back: String,
}

/// Where a panel form returns: the conversation it came from, or else the
/// contact's own page; never anywhere a posted value could point elsewhere.
pub fn panel_return(back: &str, contact_id: &str) -> String {
    match back.strip_prefix("/inbox/threads/") {
        Some(thread) if recado_core::ids::is_id_of(recado_core::ids::IdKind::Thread, thread) => back.to_string(),
        _ => format!("/contacts/{}", urlencode(contact_id)),
    }
}

/// `POST /inbox/contacts/{id}/subscriptions`: a manual change, with the
/// same rules and history as the API's.
pub async fn subscribe(
    State(state): State<AppState>,
    Path(contact_id): Path<String>,
    posted: Posted<SubscribeForm>,
) -> UiResult<Response> {
    let f = posted.form;
    let ws_id = posted.user.workspace_id().to_string();
    let base = panel_return(&f.back, &contact_id);
    let back = |query: String| Redirect::to(&format!("{base}?{query}#contact")).into_response();
    let refused = |code: &str| back(format!("error={}", urlencode(code)));
    let Ok(channel) = f.channel.parse::<Channel>() else {
        return Ok(refused("invalid_channel"));
    };
    let status = match f.status.parse::<SubscriptionStatus>() {
        Ok(s) if s != SubscriptionStatus::NotSpecified => s,
        _ => return Ok(refused("invalid_status")),
    };
    let legal_basis = match f.legal_basis.trim() {
        "" => None,
        b => match b.parse::<LegalBasis>() {
            Ok(b) => Some(b),
            Err(_) => return Ok(refused("invalid_legal_basis")),
        },
    };
    let explanation = Some(f.explanation.trim().to_string()).filter(|e| !e.is_empty());
    let ws = state.store.workspace(&ws_id).await?;
    let contact = contacts_for(&state, &ws).get(&contact_id).await?;
    let request = ChangeRequest {
        channel,
        status,
        legal_basis,
        explanation,
        source: ConsentSource::Manual,
    };
    let now = state.clock.now_ms();
    match recado_app::consent::service::change(&state.store, &contact, &request, posted.user.user_id(), now).await {
        Ok(_) => Ok(back("subscribed=1".into())),
        Err(e) if !e.is_internal() => Ok(refused(e.code)),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recado_core::ids::{new_id, IdKind};

    #[test]
    fn a_panel_form_returns_only_to_a_conversation_or_the_contacts_page() {
        let thread = new_id(IdKind::Thread);
        let contact = new_id(IdKind::Contact);
        let conversation = format!("/inbox/threads/{thread}");
        assert_eq!(panel_return(&conversation, &contact), conversation);
        let own_page = format!("/contacts/{contact}");
        assert_eq!(panel_return("", &contact), own_page);
        assert_eq!(panel_return("https://evil.example/", &contact), own_page);
        assert_eq!(panel_return("/inbox/threads/../../admin", &contact), own_page);
        assert_eq!(panel_return("//evil.example", &contact), own_page);
    }
}
