//! The SMS channel end to end with the built-in sandbox provider: consent,
//! senders, segments, tokens, short links with UTM, the unsubscribe page,
//! delivery events and inbound replies.

use crate::common::{spawn_app, TestApp};
use chrono::Datelike;
use recado_core::clock::Clock;
use serde_json::{json, Value};

async fn setup(config: Value) -> (TestApp, String) {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/channels",
            json!({"kind": "sms_sandbox", "name": "SMS", "config": config}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body["webhook_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/webhooks/sms/{}", r.body["id"].as_str().unwrap())));
    let id = r.body["id"].as_str().unwrap().to_string();
    (app, id)
}

async fn subscribed_contact(app: &TestApp, phone: &str, firstname: &str) -> String {
    let id = app.contact(json!({"firstname": firstname, "mobilephone": phone})).await;
    let r = app
        .put(
            &format!("/api/v1/contacts/{id}/subscriptions/sms"),
            json!({"status": "subscribed", "legal_basis": "consent", "explanation": "signed up"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    id
}

async fn timeline_kinds(app: &TestApp, contact: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/contacts/{contact}/timeline")).await;
    let mut kinds: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    kinds.reverse();
    kinds.retain(|k| k.starts_with("SMS_"));
    kinds
}

#[tokio::test]
async fn an_sms_to_a_subscribed_contact_is_sent_then_delivered_and_refused_otherwise() {
    let (app, _) = setup(json!({"senders": ["Recado"]})).await;
    let ana = subscribed_contact(&app, "+5511912345678", "Ana").await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": ana, "text": "Olá {{contact.firstname}}, seu pedido chegou!"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(
        r.body["text"], "Ola Ana, seu pedido chegou!",
        "tokens filled, transliterated by default"
    );
    assert_eq!(
        (r.body["encoding"].as_str(), r.body["segments"].as_i64()),
        (Some("GSM-7"), Some(1))
    );
    let now = app.clock.now();
    assert_eq!(r.body["campaign"], format!("API_SMS_{}_{:02}", now.year(), now.month()));
    app.run_jobs().await;
    assert_eq!(
        timeline_kinds(&app, &ana).await,
        vec!["SMS_QUEUED", "SMS_SENT", "SMS_DELIVERED"]
    );
    let m = app
        .get(&format!("/api/v1/messages/{}", r.body["id"].as_str().unwrap()))
        .await;
    assert_eq!(m.body["status"], "delivered");
    assert_eq!(
        (m.body["from"].as_str(), m.body["to"].as_str()),
        (Some("Recado"), Some("+5511912345678"))
    );

    let bia = app
        .contact(json!({"firstname": "Bia", "mobilephone": "+5511987654321"}))
        .await;
    let refused = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": bia, "text": "Oferta"}),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (409, "not_subscribed"));
    assert_eq!(timeline_kinds(&app, &bia).await, vec!["SMS_NOT_SENT"]);
    app.run_jobs().await;
    let m = app.get(&format!("/api/v1/contacts/{bia}/timeline")).await;
    let id = m.body["items"][0]["message_id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/messages/{id}")).await.body["status"],
        "not_sent"
    );
}

#[tokio::test]
async fn undelivered_messages_end_not_delivered_with_the_failure_code() {
    let (app, _) = setup(json!({"senders": ["Recado"], "delivery_ratio": 0.0, "failure_code": "30003"})).await;
    let ana = subscribed_contact(&app, "+5511912345678", "Ana").await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": ana, "text": "hi"}),
        )
        .await;
    app.run_jobs().await;
    let m = app
        .get(&format!("/api/v1/messages/{}", r.body["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        (m.body["status"].as_str(), m.body["error"]["code"].as_str()),
        (Some("not_delivered"), Some("30003"))
    );
    assert_eq!(
        timeline_kinds(&app, &ana).await,
        vec!["SMS_QUEUED", "SMS_SENT", "SMS_NOT_DELIVERED"]
    );
}

#[tokio::test]
async fn invalid_senders_and_texts_over_five_parts_are_refused_before_sending() {
    let (app, _) = setup(json!({})).await;
    let ana = subscribed_contact(&app, "+5511912345678", "Ana").await;
    for sender in ["ABCDEFGHIJKL", "+12ab"] {
        let r = app
            .post(
                "/api/v1/messages",
                json!({"channel": "sms", "contact_id": ana, "from": sender, "text": "hi"}),
            )
            .await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (422, "invalid_sender", "from"),
            "{sender}"
        );
    }
    let long = "a".repeat(153 * 5 + 1);
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": ana, "from": "Recado", "text": long}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "too_many_segments"));
    app.run_jobs().await;
    assert_eq!(
        timeline_kinds(&app, &ana).await,
        vec!["SMS_NOT_SENT", "SMS_NOT_SENT", "SMS_NOT_SENT"],
        "every refusal is recorded, the sender refusals too"
    );
}

#[tokio::test]
async fn short_links_redirect_with_utm_and_record_clicks_and_the_unsubscribe_page_is_per_contact() {
    let (app, _) = setup(json!({"senders": ["Recado"]})).await;
    let ana = subscribed_contact(&app, "+5511912345678", "Ana").await;
    let bia = subscribed_contact(&app, "+5511987654321", "Bia").await;
    let body = |id: &str| {
        json!({"channel": "sms", "contact_id": id, "text": "Oferta: https://loja.example/promo?x=1 Sair: {UNSUB_URL}",
               "shorten_urls": true, "utm": {"source": "sms", "campaign": "nov"}})
    };
    let a = app.post("/api/v1/messages", body(&ana)).await;
    let b = app.post("/api/v1/messages", body(&bia)).await;
    assert_eq!((a.status, b.status), (202, 202), "{}", a.body);
    app.run_jobs().await;
    let text = a.body["text"].as_str().unwrap();
    let short = text.split_whitespace().find(|w| w.contains("/s/")).unwrap();
    let unsub = text.split_whitespace().find(|w| w.contains("/u/")).unwrap();
    let code = short.rsplit('/').next().unwrap();
    assert!(
        code.len() >= 8 && code.chars().all(|c| c.is_ascii_alphanumeric()),
        "{code}"
    );
    assert!(!text.contains("loja.example"), "the long URL is replaced: {text}");

    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let follow = no_redirect.get(app.url(&format!("/s/{code}"))).send().await.unwrap();
    assert_eq!(follow.status().as_u16(), 302);
    assert_eq!(
        follow.headers()["location"],
        "https://loja.example/promo?x=1&utm_source=sms&utm_campaign=nov"
    );
    assert!(timeline_kinds(&app, &ana).await.contains(&"SMS_CLICKED".to_string()));
    assert!(!timeline_kinds(&app, &bia).await.contains(&"SMS_CLICKED".to_string()));
    assert_eq!(
        no_redirect
            .get(app.url("/s/NoSuchCode1"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );

    let token = unsub.rsplit('/').next().unwrap();
    let page = app.client.get(app.url(&format!("/u/{token}"))).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    let subs = |id: String| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/contacts/{id}/subscriptions")).await.body["sms"]["status"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    assert_eq!(
        subs(ana.clone()).await,
        "subscribed",
        "viewing the page changes nothing"
    );

    // A tampered token (another contact's id under Ana's signature) does nothing.
    let (payload, tag) = token.split_once('.').unwrap();
    let tampered = format!("{}X.{tag}", payload);
    assert_eq!(
        app.client
            .post(app.url(&format!("/u/{tampered}")))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        app.client
            .post(app.url("/u/forged.token"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(subs(ana.clone()).await, "subscribed");

    let done = app.client.post(app.url(&format!("/u/{token}"))).send().await.unwrap();
    assert_eq!(done.status().as_u16(), 200);
    assert_eq!(subs(ana.clone()).await, "unsubscribed");
    assert_eq!(subs(bia.clone()).await, "subscribed", "only that contact");
    let history = app
        .get(&format!("/api/v1/contacts/{ana}/subscriptions/sms/history"))
        .await;
    assert_eq!(history.body["items"][0]["source"], "unsubscribe_link");
    assert!(timeline_kinds(&app, &ana)
        .await
        .contains(&"SMS_UNSUBSCRIBED".to_string()));
}

#[tokio::test]
async fn the_unsubscribe_page_shows_the_workspace_name_escaped() {
    let app = spawn_app().await;
    let name = "Loja <script>alert(1)</script> & Cia";
    let r = app
        .post(
            "/api/v1/workspaces",
            json!({"name": name, "admin_email": "admin@markup.example"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["admin_token"].as_str().unwrap().to_string();
    let as_owner = |req: reqwest::RequestBuilder| app.send(req.bearer_auth(&token));
    let channel = as_owner(
        app.client
            .post(app.url("/api/v1/channels"))
            .json(&json!({"kind": "sms_sandbox", "name": "SMS", "config": {"senders": ["Recado"]}})),
    )
    .await;
    assert_eq!(channel.status, 201, "{}", channel.body);
    let contact = as_owner(
        app.client
            .post(app.url("/api/v1/contacts"))
            .json(&json!({"properties": {"mobilephone": "+5511912345678"}})),
    )
    .await;
    let contact = contact.body["id"].as_str().unwrap().to_string();
    let subscribed = as_owner(
        app.client
            .put(app.url(&format!("/api/v1/contacts/{contact}/subscriptions/sms")))
            .json(&json!({"status": "subscribed", "legal_basis": "consent", "explanation": "signed up"})),
    )
    .await;
    assert_eq!(subscribed.status, 200, "{}", subscribed.body);
    let sent = as_owner(
        app.client
            .post(app.url("/api/v1/messages"))
            .json(&json!({"channel": "sms", "contact_id": contact, "text": "Sair: {UNSUB_URL}"})),
    )
    .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let unsub = sent.body["text"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.contains("/u/"))
        .unwrap();
    let token = unsub.rsplit('/').next().unwrap();

    let page = app.client.get(app.url(&format!("/u/{token}"))).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    let shown = html
        .split_once("<strong>")
        .and_then(|(_, rest)| rest.split_once("</strong>"))
        .map(|(name, _)| decode_entities(name))
        .unwrap_or_else(|| panic!("no name on the page: {html}"));
    assert_eq!(shown, name, "shown as text: {html}");
}

/// Text as a browser shows it: `&lt;`, `&#60;` and friends decoded.
fn decode_entities(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (entity, after) = rest[at + 1..].split_once(';').expect("an entity ends with ;");
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            n => n
                .strip_prefix('#')
                .and_then(|d| d.parse::<u32>().ok())
                .and_then(char::from_u32)
                .unwrap_or_else(|| panic!("unknown entity &{n};")),
        };
        out.push(c);
        rest = after;
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn an_inbound_stop_unsubscribes_the_sender_and_replies_are_recorded() {
    let (app, channel) = setup(json!({"senders": ["Recado"]})).await;
    let ana = subscribed_contact(&app, "+5511912345678", "Ana").await;
    let r = app
        .post(
            &format!("/api/v1/channels/{channel}/simulate"),
            json!({"from": "+5511912345678", "text": "Obrigada!"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/channels/{channel}/simulate"),
            json!({"from": "+5511912345678", "text": " stop "}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    app.run_jobs().await;
    let subs = app.get(&format!("/api/v1/contacts/{ana}/subscriptions")).await;
    assert_eq!(
        (subs.body["sms"]["status"].as_str(), subs.body["sms"]["source"].as_str()),
        (Some("unsubscribed"), Some("keyword"))
    );
    let kinds = timeline_kinds(&app, &ana).await;
    assert_eq!(kinds.iter().filter(|k| *k == "SMS_RESPONSE").count(), 2);
    assert!(kinds.contains(&"SMS_UNSUBSCRIBED".to_string()));
    // The opt-out was confirmed with a reply even though the contact is now unsubscribed.
    assert!(kinds.contains(&"SMS_SENT".to_string()), "{kinds:?}");
}

#[tokio::test]
async fn a_number_without_prefix_takes_the_chosen_countrys_calling_code() {
    let (app, _) = setup(json!({"senders": ["Recado"]})).await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "to": "612 345 678", "country": "ES", "text": "Hola"}),
        )
        .await;
    // A new contact has no consent yet: refused, but the number was read in Spain.
    assert_eq!((r.status, r.code()), (409, "not_subscribed"));
    let c = app.get("/api/v1/contacts?q=%2B34612345678").await;
    assert_eq!(c.body["items"][0]["phones"]["mobilephone"], "+34612345678");
}

#[tokio::test]
async fn sends_whose_outcome_is_unknown_are_listed_by_status_uncertain() {
    let (app, _) = setup(json!({"senders": ["Recado"]})).await;
    let ana = subscribed_contact(&app, "+5511912345678", "Ana").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let body = json!({"channel": "sms", "contact_id": ana, "text": format!("Pedido {n}")});
        let r = app.post("/api/v1/messages", body).await;
        assert_eq!(r.status, 202, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    // The first send's attempt may have reached the provider before a crash.
    let store = &app.app_state.store;
    store.mark_send_attempted(&ids[0], 1).await.unwrap();
    app.run_jobs().await;

    let r = app.get("/api/v1/messages?status=uncertain").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![ids[0].as_str()], "{}", r.body);
    assert_eq!(r.body["items"][0]["status"], "uncertain");

    let all = app.get("/api/v1/messages?channel=sms&limit=2").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2, "{}", all.body);
    let cursor = all.body["next_cursor"].as_str().expect("a full page has a cursor");
    let rest = app
        .get(&format!("/api/v1/messages?channel=sms&limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1, "{}", rest.body);

    let bad = app.get("/api/v1/messages?status=lost").await;
    assert_eq!(
        (bad.status, bad.body["error"]["code"].as_str()),
        (422, Some("invalid_status"))
    );
}
