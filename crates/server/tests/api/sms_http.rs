//! The Twilio-compatible HTTP provider against a stand-in on loopback:
//! requests valid against Twilio's OpenAPI description, signed status
//! callbacks, inbound messages, and back-off on 429.

use crate::common::{spawn_app, TestApp};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use recado_channels::sms::testkit::{inbound_form, signed_form, status_callback_form};
use serde_json::json;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "twilio-auth-token";

/// A posted form's fields, in order.
type Form = Vec<(String, String)>;

#[derive(Clone, Default)]
struct StandIn {
    forms: Arc<Mutex<Vec<Form>>>,
    queued_errors: Arc<Mutex<VecDeque<(u16, u64)>>>,
    /// The messages the provider took, as its list shows them.
    taken: Arc<Mutex<Vec<serde_json::Value>>>,
    /// The query of each listing asked for.
    listings: Arc<Mutex<Vec<Form>>>,
}

impl StandIn {
    fn take(&self, n: usize, form: &[(String, String)]) -> String {
        let sid = format!("SM{n:032}");
        let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        self.taken.lock().unwrap().push(json!({
            "sid": sid, "to": field("To"), "from": field("From"), "body": field("Body"),
            "status": "delivered", "error_code": null, "direction": "outbound-api"
        }));
        sid
    }
}

/// `GET …/Messages.json?To=…&From=…&DateSent>=…`: the messages taken, filtered by number.
async fn list(
    State(s): State<StandIn>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> axum::Json<serde_json::Value> {
    let query: Form = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let field = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let messages: Vec<serde_json::Value> = s
        .taken
        .lock()
        .unwrap()
        .iter()
        .filter(|m| field("To").is_none_or(|to| m["to"] == to.as_str()))
        .filter(|m| field("From").is_none_or(|from| m["from"] == from.as_str()))
        .cloned()
        .collect();
    s.listings.lock().unwrap().push(query);
    axum::Json(json!({"messages": messages, "page": 0, "page_size": 100}))
}

async fn messages(State(s): State<StandIn>, body: axum::body::Bytes) -> axum::response::Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let n = {
        let mut forms = s.forms.lock().unwrap();
        forms.push(form.clone());
        forms.len()
    };
    if let Some((status, retry_after)) = s.queued_errors.lock().unwrap().pop_front() {
        if (200..300).contains(&status) {
            // Taken, but the answer the hub reads has no sid.
            s.take(n, &form);
        }
        let mut r = (
            StatusCode::from_u16(status).unwrap(),
            axum::Json(json!({"code": 20429, "message": "Too Many Requests", "status": status})),
        )
            .into_response();
        r.headers_mut()
            .insert("retry-after", retry_after.to_string().parse().unwrap());
        return r;
    }
    let sid = s.take(n, &form);
    (StatusCode::CREATED, axum::Json(json!({"sid": sid, "status": "queued"}))).into_response()
}

async fn setup() -> (TestApp, StandIn, String) {
    let app = spawn_app().await;
    let standin = StandIn::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new()
        .route("/2010-04-01/Accounts/{sid}/Messages.json", post(messages).get(list))
        .with_state(standin.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let r = app
        .post("/api/v1/channels", json!({"kind": "sms_http", "name": "Provider", "config": {"base_url": base, "account_sid": "AC123", "auth_token": TOKEN, "senders": ["+15017122661"]}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(!r.body.to_string().contains(TOKEN));
    (app, standin, r.body["id"].as_str().unwrap().to_string())
}

async fn subscribed(app: &TestApp) -> String {
    let id = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    app.put(
        &format!("/api/v1/contacts/{id}/subscriptions/sms"),
        json!({"status": "subscribed", "legal_basis": "consent", "explanation": "form"}),
    )
    .await;
    id
}

async fn post_callback(app: &TestApp, channel: &str, form: &[(String, String)], signature: &str) -> u16 {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    app.client
        .post(app.url(&format!("/webhooks/sms/{channel}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn sends_use_the_messages_api_with_a_form_valid_against_twilios_spec_and_receipts_follow() {
    let (app, standin, channel) = setup().await;
    let ana = subscribed(&app).await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": ana, "text": "Seu código é 1234"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    app.run_jobs().await;
    let forms = standin.forms.lock().unwrap().clone();
    assert_eq!(forms.len(), 1);
    recado_channels::sms::http::contract::assert_valid_create_message(&forms[0]);
    let field = |k: &str| forms[0].iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(field("To").as_deref(), Some("+5511912345678"));
    assert_eq!(field("From").as_deref(), Some("+15017122661"));
    let mid = r.body["id"].as_str().unwrap();
    assert_eq!(
        field("StatusCallback"),
        Some(format!("http://127.0.0.1/webhooks/sms/{channel}?message_id={mid}")),
        "the callback URL names the hub's own message id"
    );
    let m = app.get(&format!("/api/v1/messages/{mid}")).await;
    assert_eq!(m.body["status"], "sent");
    let sid = m.body["provider_message_id"].as_str().unwrap().to_string();

    let url = format!("http://127.0.0.1/webhooks/sms/{channel}");
    let form = status_callback_form(&sid, "delivered", None);
    let (_, signature) = signed_form(TOKEN, &url, &form);
    assert_eq!(post_callback(&app, &channel, &form, "forged+signature=").await, 401);
    app.run_jobs().await;
    assert_eq!(
        app.get(&format!("/api/v1/messages/{mid}")).await.body["status"],
        "sent",
        "a bad signature changes nothing"
    );
    assert_eq!(post_callback(&app, &channel, &form, &signature).await, 200);
    app.run_jobs().await;
    assert_eq!(
        app.get(&format!("/api/v1/messages/{mid}")).await.body["status"],
        "delivered"
    );
}

#[tokio::test]
async fn a_429_from_the_provider_is_retried_after_its_back_off_and_sent_once() {
    let (app, standin, _) = setup().await;
    let ana = subscribed(&app).await;
    standin.queued_errors.lock().unwrap().push_back((429, 30));
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": ana, "text": "hello"}),
        )
        .await;
    app.run_jobs().await;
    let mid = r.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/messages/{mid}")).await.body["status"],
        "queued"
    );
    app.clock.advance(chrono::Duration::seconds(31));
    app.run_jobs().await;
    assert_eq!(app.get(&format!("/api/v1/messages/{mid}")).await.body["status"], "sent");
    assert_eq!(
        standin.forms.lock().unwrap().len(),
        2,
        "one refused attempt, one accepted: sent once"
    );
}

#[tokio::test]
async fn a_send_the_provider_keeps_refusing_ends_failed_with_its_last_error() {
    let (app, standin, _) = setup().await;
    let ana = subscribed(&app).await;
    for _ in 0..20 {
        standin.queued_errors.lock().unwrap().push_back((500, 0));
    }
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": ana, "text": "hello"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let mid = r.body["id"].as_str().unwrap();
    for _ in 0..12 {
        app.run_jobs().await;
        app.clock.advance(chrono::Duration::hours(2));
    }
    let m = app.get(&format!("/api/v1/messages/{mid}")).await.body;
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(m["error"]["code"], "provider_error", "{m}");
    assert!(
        m["error"]["message"].as_str().unwrap().contains("Too Many Requests"),
        "the provider's last answer is kept: {m}"
    );
    assert_eq!(
        standin.forms.lock().unwrap().len(),
        8,
        "every attempt was made, no more"
    );
    let timeline = app.get(&format!("/api/v1/contacts/{ana}/timeline")).await.body;
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(kinds.contains(&"SMS_NOT_SENT"), "{timeline}");
}

#[tokio::test]
async fn an_uncertain_send_is_settled_by_a_callback_that_names_the_hubs_message_id() {
    let (app, standin, _) = setup().await;
    let ana = subscribed(&app).await;
    // The provider takes the message but its answer is lost (no `sid`).
    standin.queued_errors.lock().unwrap().push_back((201, 0));
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": ana, "text": "hello"}),
        )
        .await;
    app.run_jobs().await;
    let mid = r.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/messages/{mid}")).await.body["status"],
        "uncertain"
    );
    let callback_url = {
        let forms = standin.forms.lock().unwrap();
        forms[0].iter().find(|(k, _)| k == "StatusCallback").unwrap().1.clone()
    };
    let form = status_callback_form("SMlost0001", "delivered", None);
    let (_, signature) = signed_form(TOKEN, &callback_url, &form);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
    let path = callback_url.trim_start_matches("http://127.0.0.1");
    let status = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    app.run_jobs().await;
    let m = app.get(&format!("/api/v1/messages/{mid}")).await.body;
    assert_eq!(m["status"], "delivered", "{m}");
    assert_eq!(m["provider_message_id"], "SMlost0001", "{m}");
    assert_eq!(standin.forms.lock().unwrap().len(), 1, "never sent again");
}

#[tokio::test]
async fn a_signed_inbound_stop_unsubscribes_the_sender() {
    let (app, _standin, channel) = setup().await;
    let ana = subscribed(&app).await;
    let url = format!("http://127.0.0.1/webhooks/sms/{channel}");
    let form = inbound_form("SMin1", "+5511912345678", "+15017122661", "STOP");
    let (_, signature) = signed_form(TOKEN, &url, &form);
    assert_eq!(post_callback(&app, &channel, &form, &signature).await, 200);
    app.run_jobs().await;
    let subs = app.get(&format!("/api/v1/contacts/{ana}/subscriptions")).await;
    assert_eq!(
        (subs.body["sms"]["status"].as_str(), subs.body["sms"]["source"].as_str()),
        (Some("unsubscribed"), Some("keyword"))
    );
}

#[tokio::test]
async fn an_uncertain_send_the_provider_lists_is_settled_with_its_status_and_id() {
    let (app, standin, _) = setup().await;
    let ana = subscribed(&app).await;
    // The provider takes the message but its answer is lost, and no callback comes.
    standin.queued_errors.lock().unwrap().push_back((201, 0));
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": ana, "text": "Seu código é 4711"}),
        )
        .await;
    app.run_jobs().await;
    let mid = r.body["id"].as_str().unwrap();
    let url = format!("/api/v1/messages/{mid}");
    assert_eq!(app.get(&url).await.body["status"], "uncertain");
    app.clock.advance(chrono::Duration::minutes(3));
    let done = recado_app::sms::reconcile::run(&app.app_state).await.unwrap();
    assert_eq!(done.found, 1, "{done:?}");
    let m = app.get(&url).await.body;
    assert_eq!(
        (m["status"].as_str(), m["provider_message_id"].as_str()),
        (Some("delivered"), Some(format!("SM{:032}", 1).as_str())),
        "{m}"
    );
    let listing = standin.listings.lock().unwrap()[0].clone();
    let keys: Vec<&str> = listing.iter().map(|(k, _)| k.as_str()).collect();
    for key in &keys {
        assert!(
            ["To", "From", "DateSent>", "PageSize"].contains(key),
            "{key} is not a parameter of Twilio's ListMessage"
        );
    }
    assert!(
        listing.contains(&("To".to_string(), "+5511912345678".to_string())),
        "{listing:?}"
    );
}

#[tokio::test]
async fn an_uncertain_send_the_provider_never_lists_ends_failed_ten_minutes_after_its_attempt() {
    let (app, standin, _) = setup().await;
    let ana = subscribed(&app).await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": ana, "text": "Seu código é 4711"}),
        )
        .await;
    let mid = r.body["id"].as_str().unwrap().to_string();
    // The attempt was marked, then the node died before the request left.
    let attempted_at = recado_core::clock::Clock::now_ms(&app.clock);
    app.app_state
        .store
        .mark_send_attempted(&mid, attempted_at)
        .await
        .unwrap();
    app.run_jobs().await;
    let url = format!("/api/v1/messages/{mid}");
    assert_eq!(app.get(&url).await.body["status"], "uncertain");
    app.clock.advance(chrono::Duration::minutes(3));
    let early = recado_app::sms::reconcile::run(&app.app_state).await.unwrap();
    assert_eq!((early.absent, early.open), (0, 1), "too early to give up");
    assert_eq!(app.get(&url).await.body["status"], "uncertain");
    app.clock.advance(chrono::Duration::minutes(8));
    let late = recado_app::sms::reconcile::run(&app.app_state).await.unwrap();
    assert_eq!(late.absent, 1, "{late:?}");
    let m = app.get(&url).await.body;
    assert_eq!(
        (m["status"].as_str(), m["error"]["code"].as_str()),
        (Some("failed"), Some("provider_has_no_record")),
        "{m}"
    );
    assert!(standin.forms.lock().unwrap().is_empty(), "never sent");
}
