//! A stand-in for Meta's Cloud API on loopback: records every request the hub
//! makes and answers like Graph does (a wamid, or a queued error envelope).
#![allow(dead_code)]

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    /// Answers to give before the default success, in order.
    queued: VecDeque<(u16, Value, Option<u64>)>,
    templates: Vec<Value>,
    counter: u64,
    /// When set, the phone number resource answers only this bearer token.
    access_token: Option<String>,
}

#[derive(Clone, Default)]
pub struct CloudApi {
    inner: Arc<Mutex<Inner>>,
    pub base_url: String,
}

impl CloudApi {
    pub async fn start() -> CloudApi {
        let mut api = CloudApi::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        api.base_url = format!("http://{}", listener.local_addr().unwrap());
        let router = Router::new()
            .route("/{version}/{phone}/messages", post(send))
            .route("/{version}/{waba}/message_templates", get(templates))
            .route("/{version}/{phone}", get(phone_number))
            .with_state(api.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        api
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// The next send is answered with a Graph error envelope.
    pub fn fail_next(&self, http_status: u16, code: i64, message: &str, retry_after_secs: Option<u64>) {
        let body = json!({"error": {"message": message, "type": "OAuthException", "code": code, "error_data": {"messaging_product": "whatsapp", "details": message}, "fbtrace_id": "Atest"}});
        self.inner
            .lock()
            .unwrap()
            .queued
            .push_back((http_status, body, retry_after_secs));
    }

    /// Only `token` is accepted by the phone number resource from now on.
    pub fn require_access_token(&self, token: &str) {
        self.inner.lock().unwrap().access_token = Some(token.to_string());
    }

    pub fn set_templates(&self, templates: Vec<Value>) {
        self.inner.lock().unwrap().templates = templates;
    }
}

async fn send(
    State(api): State<CloudApi>,
    Path((version, phone)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut inner = api.inner.lock().unwrap();
    inner.requests.push(Recorded {
        path: format!("/{version}/{phone}/messages"),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: body.clone(),
    });
    if let Some((status, error, retry_after)) = inner.queued.pop_front() {
        let mut response = (StatusCode::from_u16(status).unwrap(), Json(error)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", secs.to_string().parse().unwrap());
        }
        return response;
    }
    inner.counter += 1;
    let to = body["to"].as_str().unwrap_or_default().to_string();
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to.trim_start_matches('+')}],
        "messages": [{"id": format!("wamid.standin.{}", inner.counter)}]
    }))
    .into_response()
}

/// Lists the configured templates two per page, following Graph's paging.
async fn templates(
    State(api): State<CloudApi>,
    Path((version, waba)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    let all = api.inner.lock().unwrap().templates.clone();
    let start: usize = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = all.iter().skip(start).take(2).cloned().collect();
    let next = start + page.len();
    let mut paging = json!({"cursors": {"before": start.to_string(), "after": next.to_string()}});
    if next < all.len() {
        paging["next"] = json!(format!(
            "{}/{version}/{waba}/message_templates?limit=2&after={next}",
            api.base_url
        ));
    }
    Json(json!({"data": page, "paging": paging}))
}

/// `GET /{version}/{phone_number_id}`: the number's details, or Graph's
/// error 190 for a token other than the required one.
async fn phone_number(
    State(api): State<CloudApi>,
    Path((_version, phone)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let expected = api.inner.lock().unwrap().access_token.clone();
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    if expected.is_some() && given != expected {
        let body = json!({"error": {"message": "Invalid OAuth access token - Cannot parse access token", "type": "OAuthException", "code": 190, "fbtrace_id": "Atest"}});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    Json(json!({
        "id": phone,
        "display_phone_number": "+1 555-000-1111",
        "verified_name": "Loja Stand-in",
        "quality_rating": "GREEN",
        "code_verification_status": "VERIFIED"
    }))
    .into_response()
}
