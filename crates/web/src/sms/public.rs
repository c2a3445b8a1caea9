//! The public pages of SMS links: `/s/{code}` redirects and records the
//! click; `/u/{token}` asks the contact to confirm the opt-out and applies it.
//! These pages are for the contacts, not users: plain HTML, no sign-in,
//! rendered from askama templates (`public_*.html`), which escape every value.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use recado_app::sms::unsubscribe::verify;
use recado_app::AppState;
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, SubscriptionStatus};
use serde_json::json;

/// A page that only says something: not found, try again, done.
#[derive(Template)]
#[template(path = "public_notice.html")]
struct Notice {
    title: &'static str,
    message: &'static str,
}

/// The question before an opt-out, naming the business that asks.
#[derive(Template)]
#[template(path = "public_unsubscribe.html")]
struct UnsubscribePrompt<'a> {
    title: &'static str,
    workspace_name: &'a str,
}

fn render(status: StatusCode, page: impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a public page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "Please try again in a moment.").into_response()
        }
    }
}

fn notice(status: StatusCode, title: &'static str, message: &'static str) -> Response {
    render(status, Notice { title, message })
}

fn not_found() -> Response {
    notice(
        StatusCode::NOT_FOUND,
        "Link not found",
        "This link does not exist or is no longer valid.",
    )
}

fn try_again() -> Response {
    notice(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "Please try again in a moment.",
    )
}

pub async fn follow_link(State(state): State<AppState>, code: Result<Path<String>, PathRejection>) -> Response {
    let code = path_or_nothing(code);
    let link = match state.store.short_link(&code).await {
        Ok(Some(l)) => l,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "short link lookup failed");
            return try_again();
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
    render(
        StatusCode::OK,
        UnsubscribePrompt {
            title: "Unsubscribe",
            workspace_name: &ws.name,
        },
    )
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
    match recado_app::consent::service::change(&state.store, &contact, &request, "contact", now).await {
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
        Err(_) => return try_again(),
    }
    notice(
        StatusCode::OK,
        "You are unsubscribed",
        "You will receive no more text messages from us.",
    )
}

/// A path segment that cannot be decoded (`%ff`) names no link or token: the
/// page says "not found" like for any unknown one, not 400.
fn path_or_nothing(path: Result<Path<String>, PathRejection>) -> String {
    path.map(|Path(p)| p).unwrap_or_default()
}
