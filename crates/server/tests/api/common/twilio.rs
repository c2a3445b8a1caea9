//! A stand-in for a Twilio-style SMS provider on loopback, in the test's own
//! process, so it outlives a hub killed with SIGKILL. It takes sends on the
//! account's Messages resource (keeping the hub's message id that the
//! `StatusCallback` URL names), lists them back as the provider's Messages
//! list does, can refuse every send for a while (500, as in an outage), and
//! can post each taken message's signed `delivered` callback to its
//! `StatusCallback` URL, again and again until the hub answers 2xx.
#![allow(dead_code)]

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use recado_channels::sms::testkit::{signed_form, status_callback_form};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";

/// What the provider answers while it refuses sends.
pub const OUTAGE_ERROR: &str = "Service Unavailable";

/// A posted form's fields, in order.
pub type Form = Vec<(String, String)>;

/// A send the provider took.
#[derive(Clone, Debug)]
pub struct Taken {
    pub sid: String,
    /// The hub's message id, from the `StatusCallback` URL.
    pub message_id: Option<String>,
    pub to: String,
    pub from: String,
    pub body: String,
}

type Refusing = Arc<dyn Fn() -> bool + Send + Sync>;

#[derive(Default)]
struct Inner {
    taken: Vec<Taken>,
    /// The hub's message id of every refused send.
    refused: Vec<Option<String>>,
    refusing: Option<Refusing>,
}

#[derive(Clone)]
pub struct Twilio {
    pub base_url: String,
    auth_token: String,
    inner: Arc<Mutex<Inner>>,
    callbacks: Arc<AtomicBool>,
    /// Callbacks taken on but not yet answered 2xx by the hub.
    pending: Arc<AtomicUsize>,
    /// Callbacks given up on (the hub never answered 2xx).
    abandoned: Arc<AtomicUsize>,
    http: reqwest::Client,
}

impl Twilio {
    /// Starts the stand-in; callbacks are signed with `auth_token`.
    pub async fn start(auth_token: &str) -> Twilio {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let twilio = Twilio {
            base_url: format!("http://{}", listener.local_addr().unwrap()),
            auth_token: auth_token.to_string(),
            inner: Default::default(),
            callbacks: Default::default(),
            pending: Default::default(),
            abandoned: Default::default(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        };
        let router = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(send).get(list))
            .with_state(twilio.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        twilio
    }

    /// The `config` of an `sms_http` channel sending from `sender` through this provider.
    pub fn channel_config(&self, sender: &str) -> Value {
        json!({"base_url": self.base_url, "account_sid": ACCOUNT_SID, "auth_token": self.auth_token, "senders": [sender]})
    }

    /// Every taken send is followed by its signed `delivered` callback.
    pub fn post_callbacks(&self) {
        self.callbacks.store(true, Ordering::SeqCst);
    }

    /// While `refusing` answers true, every send is refused with a 500.
    pub fn refuse_while(&self, refusing: impl Fn() -> bool + Send + Sync + 'static) {
        self.inner.lock().unwrap().refusing = Some(Arc::new(refusing));
    }

    pub fn taken(&self) -> Vec<Taken> {
        self.inner.lock().unwrap().taken.clone()
    }

    pub fn taken_count(&self) -> usize {
        self.inner.lock().unwrap().taken.len()
    }

    /// The hub's message id of every refused send, in order.
    pub fn refused(&self) -> Vec<Option<String>> {
        self.inner.lock().unwrap().refused.clone()
    }

    /// Callbacks not yet answered 2xx by the hub.
    pub fn pending_callbacks(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Callbacks given up on after a minute and a half of refusals.
    pub fn abandoned_callbacks(&self) -> usize {
        self.abandoned.load(Ordering::SeqCst)
    }

    /// Posts the `delivered` callback of `sid` to `url` until the hub answers 2xx.
    fn spawn_callback(&self, url: String, sid: String) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let twilio = self.clone();
        tokio::spawn(async move {
            let form = status_callback_form(&sid, "delivered", None);
            let (body, signature) = signed_form(&twilio.auth_token, &url, &form);
            let deadline = Instant::now() + Duration::from_secs(90);
            loop {
                let posted = twilio
                    .http
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-twilio-signature", &signature)
                    .body(body.clone())
                    .send()
                    .await;
                if posted.is_ok_and(|r| r.status().is_success()) {
                    break;
                }
                if Instant::now() > deadline {
                    twilio.abandoned.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            twilio.pending.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

fn field(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// The hub's message id a `StatusCallback` URL names (`?message_id=…`).
fn message_id_of(callback: &str) -> Option<String> {
    let query = callback.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "message_id")
        .map(|(_, v)| v.into_owned())
}

/// `POST …/Messages.json`: a send, taken (201 with its sid) or refused.
async fn send(State(s): State<Twilio>, body: axum::body::Bytes) -> Response {
    let form: Form = form_urlencoded::parse(&body).into_owned().collect();
    let callback = field(&form, "StatusCallback");
    let message_id = callback.as_deref().and_then(message_id_of);
    let taken = {
        let mut inner = s.inner.lock().unwrap();
        if inner.refusing.as_ref().is_some_and(|refusing| refusing()) {
            inner.refused.push(message_id);
            None
        } else {
            let sid = format!("SM{:032x}", inner.taken.len() + 1);
            inner.taken.push(Taken {
                sid: sid.clone(),
                message_id,
                to: field(&form, "To").unwrap_or_default(),
                from: field(&form, "From").unwrap_or_default(),
                body: field(&form, "Body").unwrap_or_default(),
            });
            Some(sid)
        }
    };
    let Some(sid) = taken else {
        let error = json!({"code": 20500, "message": OUTAGE_ERROR, "more_info": "https://www.twilio.com/docs/errors/20500", "status": 500});
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(error)).into_response();
    };
    if let Some(url) = callback.filter(|_| s.callbacks.load(Ordering::SeqCst)) {
        s.spawn_callback(url, sid.clone());
    }
    let answer = json!({"sid": sid, "status": "queued", "to": field(&form, "To"), "from": field(&form, "From"), "body": field(&form, "Body"), "account_sid": ACCOUNT_SID, "direction": "outbound-api"});
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// `GET …/Messages.json?To=…&From=…&DateSent>=…`: the messages taken, filtered by number.
async fn list(State(s): State<Twilio>, RawQuery(query): RawQuery) -> Json<Value> {
    let query: Form = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let to = field(&query, "To");
    let from = field(&query, "From");
    let messages: Vec<Value> = s
        .inner
        .lock()
        .unwrap()
        .taken
        .iter()
        .filter(|m| to.as_ref().is_none_or(|to| &m.to == to))
        .filter(|m| from.as_ref().is_none_or(|from| &m.from == from))
        .map(|m| {
            json!({"sid": m.sid, "to": m.to, "from": m.from, "body": m.body, "status": "delivered",
                   "error_code": null, "direction": "outbound-api"})
        })
        .collect();
    Json(json!({"messages": messages, "page": 0, "page_size": 100}))
}
