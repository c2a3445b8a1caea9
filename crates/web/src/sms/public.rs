//! The public pages of SMS links: `/s/{code}` redirects and records the
//! click; `/u/{token}` asks the contact to confirm the opt-out and applies it.
//! These pages are for the contacts, not users: plain HTML, no sign-in.

use super::unsubscribe::verify;
use crate::app::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, SubscriptionStatus};
use serde_json::json;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}}\
         button{{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #444;background:#fff;cursor:pointer}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page(
            "Link not found",
            "<p>This link does not exist or is no longer valid.</p>",
        )),
    )
        .into_response()
}

pub async fn follow_link(State(state): State<AppState>, code: Result<Path<String>, PathRejection>) -> Response {
    let code = path_or_nothing(code);
    let link = match state.store.short_link(&code).await {
        Ok(Some(l)) => l,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "short link lookup failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(page("Try again", "<p>Please try again in a moment.</p>")),
            )
                .into_response();
        }
    };
    if let Err(e) = record_click(&state, &link).await {
        // The contact still gets where they were going; the click is lost.
        tracing::error!(error = %e, "could not record a click");
    }
    (StatusCode::FOUND, [(header::LOCATION, link.target_url.as_str())]).into_response()
}

async fn record_click(state: &AppState, link: &recado_store::links::ShortLink) -> Result<(), recado_store::StoreError> {
    state.store.count_click(&link.code).await?;
    let Ok(message) = state.store.message(&link.workspace_id, &link.message_id).await else {
        return Ok(());
    };
    let details = json!({ "url": link.target_url, "code": link.code });
    state
        .store
        .update_delivery(&message.id, state.clock.now_ms(), |_| {
            Some(recado_store::messages::DeliveryUpdate {
                events: vec![("clicked".into(), details.clone())],
                timeline: vec![("SMS_CLICKED".into(), details.clone())],
                ..Default::default()
            })
        })
        .await?;
    Ok(())
}

pub async fn unsubscribe_page(State(state): State<AppState>, token: Result<Path<String>, PathRejection>) -> Response {
    let token = path_or_nothing(token);
    let Some(claim) = verify(state.secrets.signing_key(), &token) else {
        return not_found();
    };
    let Ok(ws) = state.store.workspace(&claim.workspace_id).await else {
        return not_found();
    };
    if state
        .store
        .contact(&claim.workspace_id, &claim.contact_id)
        .await
        .is_err()
    {
        return not_found();
    }
    // A GET only asks: link scanners and previews must not unsubscribe anyone.
    let body = format!(
        "<p>Stop receiving text messages from <strong>{}</strong>?</p><form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
        escape(&ws.name)
    );
    Html(page("Unsubscribe", &body)).into_response()
}

pub async fn unsubscribe(State(state): State<AppState>, token: Result<Path<String>, PathRejection>) -> Response {
    let token = path_or_nothing(token);
    let Some(claim) = verify(state.secrets.signing_key(), &token) else {
        return not_found();
    };
    let Ok(contact) = state.store.contact(&claim.workspace_id, &claim.contact_id).await else {
        return not_found();
    };
    let now = state.clock.now_ms();
    let request = ChangeRequest {
        channel: Channel::Sms,
        status: SubscriptionStatus::Unsubscribed,
        legal_basis: None,
        explanation: Some("confirmed on the unsubscribe page".into()),
        source: ConsentSource::UnsubscribeLink,
    };
    match crate::consent::service::change(&state.store, &contact, &request, "contact", now).await {
        Ok(recado_store::consent::ChangeOutcome::Changed(_)) => {
            let campaign = state
                .store
                .message(&claim.workspace_id, &claim.message_id)
                .await
                .ok()
                .and_then(|m| m.campaign);
            let event = recado_store::timeline::NewTimelineEvent {
                workspace_id: &claim.workspace_id,
                contact_id: &contact.id,
                kind: "SMS_UNSUBSCRIBED",
                at: now,
                message_id: Some(&claim.message_id),
                campaign: campaign.as_deref(),
                sender: None,
                details: json!({ "source": "unsubscribe_link" }),
            };
            if let Err(e) = state.store.add_timeline_event(&event).await {
                tracing::error!(error = %e, "could not record SMS_UNSUBSCRIBED");
            }
        }
        Ok(_) => {}
        Err(e) if !e.is_internal() => {}
        Err(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(page("Try again", "<p>Please try again in a moment.</p>")),
            )
                .into_response()
        }
    }
    Html(page(
        "You are unsubscribed",
        "<p>You will receive no more text messages from us.</p>",
    ))
    .into_response()
}

/// A path segment that cannot be decoded (`%ff`) names no link or token: the
/// page says "not found" like for any unknown one, not 400.
fn path_or_nothing(path: Result<Path<String>, PathRejection>) -> String {
    path.map(|Path(p)| p).unwrap_or_default()
}
