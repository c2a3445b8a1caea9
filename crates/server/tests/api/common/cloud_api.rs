//! A stand-in for Meta's Cloud API on loopback: records every request the hub
//! makes and answers like Graph does (a wamid, or a queued error envelope).
//! It can refuse every send for a while (an outage), and post the signed
//! `sent` and `delivered` statuses of each message it took to the hub's
//! webhook, echoing `biz_opaque_callback_data`, until the hub answers 2xx.
#![allow(dead_code)]

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What Graph answers while the stand-in refuses sends.
pub const OUTAGE_ERROR: &str = "Service temporarily unavailable";

#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
    /// The wamid of a send the stand-in took.
    pub wamid: Option<String>,
}

type Refusing = Arc<dyn Fn() -> bool + Send + Sync>;

/// Where the statuses of the messages taken go: the channel's webhook URL
/// and the app secret that signs them.
#[derive(Clone)]
struct StatusTarget {
    url: String,
    app_secret: String,
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
    refusing: Option<Refusing>,
    statuses: Option<StatusTarget>,
    /// Status deliveries not yet answered 2xx by the hub.
    pending_statuses: usize,
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

    /// While `refusing` answers true, every send is answered 500 (Graph's
    /// code 2, the service is unavailable) and taken by no one.
    pub fn refuse_while(&self, refusing: impl Fn() -> bool + Send + Sync + 'static) {
        self.inner.lock().unwrap().refusing = Some(Arc::new(refusing));
    }

    /// From now on every message taken is followed by its `sent` and
    /// `delivered` statuses, signed with `app_secret`, posted to `url`.
    pub fn post_statuses_to(&self, url: &str, app_secret: &str) {
        self.inner.lock().unwrap().statuses = Some(StatusTarget {
            url: url.to_string(),
            app_secret: app_secret.to_string(),
        });
    }

    /// The sends the stand-in took (answered with a wamid), in order.
    pub fn taken(&self) -> Vec<Recorded> {
        let inner = self.inner.lock().unwrap();
        inner.requests.iter().filter(|r| r.wamid.is_some()).cloned().collect()
    }

    pub fn taken_count(&self) -> usize {
        self.inner.lock().unwrap().counter as usize
    }

    /// Status deliveries not yet answered 2xx by the hub.
    pub fn pending_statuses(&self) -> usize {
        self.inner.lock().unwrap().pending_statuses
    }

    /// Posts the statuses of `wamid` (sent from `phone`) until the hub
    /// answers 2xx, for at most a minute and a half.
    fn spawn_statuses(&self, target: StatusTarget, phone: String, wamid: String, own_id: Option<String>) {
        use recado_channels::whatsapp::testkit;
        use recado_channels::whatsapp::webhook::ProviderStatus;
        self.inner.lock().unwrap().pending_statuses += 1;
        let api = self.clone();
        tokio::spawn(async move {
            let ts = chrono::Utc::now().timestamp();
            let body = testkit::combine(&[
                testkit::status(&phone, &wamid, ProviderStatus::Sent, ts, own_id.as_deref(), &[]),
                testkit::status(&phone, &wamid, ProviderStatus::Delivered, ts, own_id.as_deref(), &[]),
            ]);
            let (body, signature) = testkit::signed(target.app_secret.as_bytes(), body);
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(90);
            loop {
                let posted = http
                    .post(&target.url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", &signature)
                    .body(body.clone())
                    .send()
                    .await;
                if posted.is_ok_and(|r| r.status().is_success()) || Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            api.inner.lock().unwrap().pending_statuses -= 1;
        });
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
        wamid: None,
    });
    if inner.refusing.as_ref().is_some_and(|refusing| refusing()) {
        let error =
            json!({"error": {"message": OUTAGE_ERROR, "type": "OAuthException", "code": 2, "fbtrace_id": "Atest"}});
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(error)).into_response();
    }
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
    let wamid = format!("wamid.standin.{}", inner.counter);
    if let Some(last) = inner.requests.last_mut() {
        last.wamid = Some(wamid.clone());
    }
    let target = inner.statuses.clone();
    drop(inner);
    if let Some(target) = target {
        let own_id = body["biz_opaque_callback_data"].as_str().map(str::to_string);
        api.spawn_statuses(target, phone, wamid.clone(), own_id);
    }
    let to = body["to"].as_str().unwrap_or_default().to_string();
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to.trim_start_matches('+')}],
        "messages": [{"id": wamid}]
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
