//! Settings → Outbound webhooks: the endpoints with the events they take,
//! whether they are enabled (and why not), their recent deliveries with the
//! endpoint's answer; adding one (its signing secret shown once), sending a
//! test event, re-enabling a disabled one, removing one.

use super::{admin_form, admins_only, Admin, Notice, SettingsNav};
use crate::ui::page::{html, local_time, timezone, Chrome, UiResult};
use crate::ui::session::{urlencode, Posted};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::outbound_webhooks::{create_endpoint, send_test, EVENT_TYPES};
use recado_app::AppState;
use recado_store::StoreError;
use serde::Deserialize;

/// Deliveries shown per endpoint.
const DELIVERIES_SHOWN: i64 = 10;

pub struct DeliveryRow {
    pub at: String,
    pub event: String,
    pub status: String,
    pub ok: bool,
    pub response: String,
}

pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub events: String,
    pub enabled: bool,
    pub disabled_reason: String,
    pub failures: i64,
    pub deliveries: Vec<DeliveryRow>,
}

#[derive(Template)]
#[template(path = "settings_webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    nav: SettingsNav,
    notice: Notice,
    endpoints: Vec<EndpointRow>,
    event_types: Vec<&'static str>,
    created: Option<(String, String)>,
    url: String,
    url_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct WebhooksQuery {
    error: Option<String>,
    done: Option<String>,
}

fn message(code: &str) -> String {
    match code {
        "enabled" => "Endpoint enabled again.".into(),
        "removed" => "Endpoint removed.".into(),
        "tested_ok" => "The test event was accepted (see the first delivery below).".into(),
        "tested_failed" => "The test event was not accepted (see the first delivery below).".into(),
        "not_found" => "No such endpoint.".into(),
        other => format!("Not possible ({other})."),
    }
}

async fn render(
    state: &AppState,
    user: &crate::ui::session::WebUser,
    notice: Notice,
    created: Option<(String, String)>,
    url: String,
    url_error: Option<String>,
) -> UiResult<WebhooksPage> {
    let ws = user.workspace_id();
    let tz = timezone(state, ws).await?;
    let mut endpoints = Vec::new();
    for e in state.store.endpoints(ws).await? {
        let deliveries = state
            .store
            .deliveries(ws, &e.id, DELIVERIES_SHOWN)
            .await?
            .into_iter()
            .map(|d| DeliveryRow {
                at: local_time(d.at, &tz),
                event: d.event_type,
                status: d.status_code.map_or_else(|| "—".into(), |c| c.to_string()),
                ok: d.ok,
                response: d.response,
            })
            .collect();
        endpoints.push(EndpointRow {
            events: e.events.replace(',', ", "),
            disabled_reason: e.disabled_reason.clone().unwrap_or_default(),
            failures: e.consecutive_failures,
            enabled: e.enabled,
            url: e.url,
            id: e.id,
            deliveries,
        });
    }
    Ok(WebhooksPage {
        chrome: Chrome::build(state, user, "Outbound webhooks", "").await?,
        nav: SettingsNav::new("webhooks"),
        notice,
        endpoints,
        event_types: EVENT_TYPES.to_vec(),
        created,
        url,
        url_error,
    })
}

/// `GET /settings/webhooks`.
pub async fn page(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<WebhooksQuery>,
) -> UiResult<Response> {
    let notice = match (q.error, q.done) {
        (Some(code), _) => Some((true, message(&code))),
        (None, Some(done)) => Some((false, message(&done))),
        _ => None,
    };
    html(render(&state, &user, notice, None, String::new(), None).await?)
}

fn back(query: &str) -> Response {
    Redirect::to(&format!("/settings/webhooks?{query}")).into_response()
}

#[derive(Deserialize)]
pub struct EndpointForm {
    #[serde(default)]
    url: String,
}

/// `POST /settings/webhooks`: adds an endpoint for the ticked events (all
/// when none is ticked) and shows its signing secret once.
pub async fn create(State(state): State<AppState>, posted: Posted<EndpointForm>) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let events: Vec<String> = posted
        .fields
        .iter()
        .filter(|(k, _)| k == "events")
        .map(|(_, v)| v.clone())
        .collect();
    let events = (!events.is_empty()).then_some(events);
    let ws = posted.user.workspace_id().to_string();
    match create_endpoint(&state, &ws, &posted.form.url, events).await {
        Ok((endpoint, secret)) => {
            let notice = Some((false, "Endpoint added.".to_string()));
            let page = render(
                &state,
                &posted.user,
                notice,
                Some((endpoint.url, secret)),
                String::new(),
                None,
            )
            .await?;
            html(page)
        }
        Err(e) if !e.is_internal() => {
            let page = render(
                &state,
                &posted.user,
                None,
                None,
                posted.form.url.clone(),
                Some(e.message),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html(page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /settings/webhooks/{id}/test`: sends a `webhook.test` event now.
pub async fn test(State(state): State<AppState>, Path(id): Path<String>, posted: Posted<Empty>) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let delivery = send_test(&state, posted.user.workspace_id(), &id).await?;
    let outcome = if delivery.ok { "tested_ok" } else { "tested_failed" };
    Ok(back(&format!("done={outcome}#ep-{}", urlencode(&id))))
}

/// `POST /settings/webhooks/{id}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Empty>,
) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    match state.store.enable_endpoint(posted.user.workspace_id(), &id).await {
        Ok(()) => Ok(back("done=enabled")),
        Err(StoreError::NotFound) => Ok(back("error=not_found")),
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/webhooks/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Empty>,
) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    match state.store.delete_endpoint(posted.user.workspace_id(), &id).await {
        Ok(()) => Ok(back("done=removed")),
        Err(StoreError::NotFound) => Ok(back("error=not_found")),
        Err(e) => Err(e.into()),
    }
}
