//! Consent: subscriptions per channel, the rules for changing them, their
//! history, bulk changes, custom keywords and inbound keyword handling.

use crate::common::{spawn_app, Reply, TestApp};
use recado_app::consent::service::apply_inbound_keyword;
use recado_core::consent::Channel;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A new user of the admin's workspace with an API token of their own.
async fn user_with_token(app: &TestApp, email: &str, role: &str) -> (String, String) {
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": email, "name": email, "password": "correct horse battery", "role": role}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let user_id = r.body["id"].as_str().unwrap().to_string();
    let workspace_id = app.get("/api/v1/workspace").await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = recado_app::auth::generate_token();
    app.app_state
        .store
        .create_token(
            &recado_core::ids::new_id(recado_core::ids::IdKind::Token),
            &workspace_id,
            &user_id,
            "tests",
            &recado_app::auth::hash_token(&token),
            app.app_state.clock.now_ms(),
        )
        .await
        .expect("token stored");
    (user_id, token)
}

async fn admin_id(app: &TestApp) -> String {
    let r = app.get("/api/v1/users").await;
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "admin@localhost")
        .and_then(|u| u["id"].as_str())
        .expect("the first admin")
        .to_string()
}

async fn put_as(app: &TestApp, path: &str, body: Value, token: &str) -> Reply {
    app.send(app.client.put(app.url(path)).bearer_auth(token).json(&body))
        .await
}

async fn status_of(app: &TestApp, contact: &str, channel: &str) -> String {
    let r = app.get(&format!("/api/v1/contacts/{contact}/subscriptions")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body[channel]["status"].as_str().unwrap().to_string()
}

async fn history(app: &TestApp, contact: &str, channel: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/contacts/{contact}/subscriptions/{channel}/history"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

fn subscribe() -> Value {
    json!({"status": "subscribed", "legal_basis": "consent", "explanation": "signed up at the shop"})
}

#[tokio::test]
async fn subscriptions_start_not_specified_on_every_channel() {
    let app = spawn_app().await;
    let id = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+55 11 91234-5678"}))
        .await;
    let r = app.get(&format!("/api/v1/contacts/{id}/subscriptions")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let channels: BTreeSet<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(channels, BTreeSet::from(["whatsapp", "sms", "voice"]));
    for channel in ["whatsapp", "sms", "voice"] {
        assert_eq!(r.body[channel]["status"], "not_specified", "{}", r.body);
        for key in ["legal_basis", "explanation", "source", "updated_at"] {
            assert!(r.body[channel].get(key).is_some(), "{channel}.{key}: {}", r.body);
        }
        assert!(history(&app, &id, channel).await.is_empty());
    }
    let r = app
        .get("/api/v1/contacts/ct_01jd0000000000000000000000/subscriptions")
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
}

#[tokio::test]
async fn subscribing_without_legal_basis_or_explanation_is_422_legal_basis_required() {
    let app = spawn_app().await;
    let id = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+55 11 91234-5678"}))
        .await;
    let path = format!("/api/v1/contacts/{id}/subscriptions/sms");
    for body in [
        json!({"status": "subscribed"}),
        json!({"status": "subscribed", "legal_basis": "consent"}),
        json!({"status": "subscribed", "explanation": "they asked"}),
        json!({"status": "subscribed", "legal_basis": "consent", "explanation": "   "}),
        json!({"status": "subscribed", "legal_basis": "", "explanation": "they asked"}),
    ] {
        let r = app.put(&path, body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (422, "legal_basis_required"),
            "{body}: {}",
            r.body
        );
    }
    assert_eq!(status_of(&app, &id, "sms").await, "not_specified");
    assert!(history(&app, &id, "sms").await.is_empty());
    // Opting out needs no legal basis.
    let r = app.put(&path, json!({"status": "unsubscribed"})).await;
    assert_eq!(
        (r.status, &r.body["status"]),
        (200, &json!("unsubscribed")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn whatsapp_subscription_needs_a_whatsapp_number() {
    let app = spawn_app().await;
    let landline_only = app
        .contact(json!({"firstname": "Ana", "phone": "+55 11 3123-4567"}))
        .await;
    let no_phone = app.contact(json!({"firstname": "Bruno"})).await;
    for id in [&landline_only, &no_phone] {
        let r = app
            .put(&format!("/api/v1/contacts/{id}/subscriptions/whatsapp"), subscribe())
            .await;
        assert_eq!((r.status, r.code()), (422, "no_whatsapp_phone"), "{}", r.body);
        assert_eq!(status_of(&app, id, "whatsapp").await, "not_specified");
    }
    // SMS needs no WhatsApp number.
    let r = app
        .put(
            &format!("/api/v1/contacts/{landline_only}/subscriptions/sms"),
            subscribe(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    for props in [
        json!({"whatsapp_phone": "+55 11 91234-5678"}),
        json!({"mobilephone": "+34 612 345 678"}),
    ] {
        let id = app.contact(props).await;
        let r = app
            .put(&format!("/api/v1/contacts/{id}/subscriptions/whatsapp"), subscribe())
            .await;
        assert_eq!((r.status, &r.body["status"]), (200, &json!("subscribed")), "{}", r.body);
    }
}

#[tokio::test]
async fn unknown_channel_is_422_invalid_channel() {
    let app = spawn_app().await;
    let id = app.contact(json!({"firstname": "Ana"})).await;
    let r = app
        .put(&format!("/api/v1/contacts/{id}/subscriptions/fax"), subscribe())
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_channel", "channel"),
        "{}",
        r.body
    );
    let r = app
        .get(&format!("/api/v1/contacts/{id}/subscriptions/fax/history"))
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_channel"), "{}", r.body);
    let r = app
        .put(&format!("/api/v1/contacts/{id}/subscriptions/SMS"), subscribe())
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_channel"), "{}", r.body);
    let r = app
        .post(
            "/api/v1/subscriptions/bulk",
            json!({"contact_ids": [id], "channel": "fax", "status": "unsubscribed"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_channel"), "{}", r.body);
}

#[tokio::test]
async fn unknown_legal_basis_or_status_is_422() {
    let app = spawn_app().await;
    let id = app.contact(json!({"firstname": "Ana"})).await;
    let path = format!("/api/v1/contacts/{id}/subscriptions/sms");
    let r = app
        .put(
            &path,
            json!({"status": "subscribed", "legal_basis": "gdpr", "explanation": "x"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, "legal_basis"), "{}", r.body);
    assert!(!r.code().is_empty());
    for status in ["maybe", "not_specified", "SUBSCRIBED"] {
        let r = app
            .put(
                &path,
                json!({"status": status, "legal_basis": "consent", "explanation": "x"}),
            )
            .await;
        assert_eq!((r.status, r.field()), (422, "status"), "{status}: {}", r.body);
    }
    assert!(history(&app, &id, "sms").await.is_empty());
    for basis in [
        "consent",
        "legitimate_interest_prospect",
        "legitimate_interest_client",
        "legitimate_interest_other",
        "contract",
        "not_applicable",
    ] {
        let r = app
            .put(
                &path,
                json!({"status": "subscribed", "legal_basis": basis, "explanation": "x"}),
            )
            .await;
        assert_eq!((r.status, &r.body["legal_basis"]), (200, &json!(basis)), "{}", r.body);
    }
}

#[tokio::test]
async fn every_change_is_in_the_history_newest_first_with_its_actor() {
    let app = spawn_app().await;
    let admin = admin_id(&app).await;
    let (agent, agent_token) = user_with_token(&app, "agent@example.com", "agent").await;
    assert_ne!(admin, agent);
    let id = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+55 11 91234-5678"}))
        .await;
    let path = format!("/api/v1/contacts/{id}/subscriptions/sms");

    let steps = [
        (
            &app.token,
            &admin,
            json!({"status": "subscribed", "legal_basis": "consent", "explanation": "signed form"}),
        ),
        (
            &agent_token,
            &agent,
            json!({"status": "unsubscribed", "explanation": "asked by phone"}),
        ),
        (
            &app.token,
            &admin,
            json!({"status": "subscribed", "legal_basis": "legitimate_interest_client", "explanation": "asked again in the shop"}),
        ),
    ];
    let mut expected = Vec::new();
    for (token, actor, body) in &steps {
        app.clock.advance(chrono::Duration::minutes(3));
        let r = put_as(&app, &path, body.clone(), token).await;
        assert_eq!(r.status, 200, "{}", r.body);
        // The answer is the new state.
        assert_eq!(r.body["status"], body["status"]);
        assert_eq!(r.body["source"], "manual");
        assert_eq!(r.body["explanation"], body["explanation"]);
        let at = r.body["updated_at"].as_str().unwrap().to_string();
        let parsed = chrono::DateTime::parse_from_rfc3339(&at).expect("RFC 3339");
        assert_eq!(parsed.timestamp_millis(), app.app_state.clock.now_ms());
        expected.push(json!({
            "status": body["status"],
            "legal_basis": body.get("legal_basis").cloned().unwrap_or(Value::Null),
            "explanation": body["explanation"],
            "source": "manual",
            "actor": actor,
            "at": at,
        }));
    }
    expected.reverse();
    let r = app.get(&format!("{path}/history")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"items": expected, "next_cursor": null}));

    // The current state is the newest entry.
    let r = app.get(&format!("/api/v1/contacts/{id}/subscriptions")).await;
    assert_eq!(r.body["sms"]["status"], "subscribed");
    assert_eq!(r.body["sms"]["legal_basis"], "legitimate_interest_client");
    assert_eq!(r.body["sms"]["source"], "manual");
    assert_eq!(r.body["sms"]["updated_at"], expected[0]["at"]);
    assert_eq!(r.body["voice"]["status"], "not_specified");

    // The history pages like every list.
    let r = app.get(&format!("{path}/history?limit=2")).await;
    assert_eq!(r.body["items"], json!(expected[..2]));
    let cursor = r.body["next_cursor"].as_str().expect("a cursor").to_string();
    let r = app.get(&format!("{path}/history?limit=2&cursor={cursor}")).await;
    assert_eq!(r.body, json!({"items": [expected[2]], "next_cursor": null}));

    // Setting exactly the same state again writes nothing new.
    let r = app.put(&path, steps[2].2.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(history(&app, &id, "sms").await.len(), 3);
    // Other channels have their own history.
    assert!(history(&app, &id, "voice").await.is_empty());
}

#[tokio::test]
async fn bulk_updates_many_and_reports_unknown_contacts_as_not_found() {
    let app = spawn_app().await;
    let admin = admin_id(&app).await;
    let other = app.other_workspace("elsewhere").await;
    let foreign = app
        .post_as("/api/v1/contacts", json!({"properties": {"firstname": "Zed"}}), &other)
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(app.contact(json!({"firstname": format!("P{i}")})).await);
    }
    let mut contact_ids: Vec<String> = ids.clone();
    contact_ids.insert(1, "ct_01jd0000000000000000000000".to_string());
    contact_ids.push(foreign.clone());
    let r = app
        .post(
            "/api/v1/subscriptions/bulk",
            json!({"contact_ids": contact_ids, "channel": "sms", "status": "subscribed",
                   "legal_basis": "legitimate_interest_client", "explanation": "existing customers"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"updated": 4, "failed": [
            {"contact_id": "ct_01jd0000000000000000000000", "code": "not_found"},
            {"contact_id": foreign, "code": "not_found"},
        ]})
    );
    for id in &ids {
        assert_eq!(status_of(&app, id, "sms").await, "subscribed");
        let h = history(&app, id, "sms").await;
        assert_eq!(h.len(), 1);
        assert_eq!(
            (
                &h[0]["source"],
                &h[0]["actor"],
                &h[0]["legal_basis"],
                &h[0]["explanation"]
            ),
            (
                &json!("bulk"),
                &json!(admin),
                &json!("legitimate_interest_client"),
                &json!("existing customers")
            )
        );
    }
    // The other workspace's contact was not touched.
    let r = app
        .get_as(&format!("/api/v1/contacts/{foreign}/subscriptions"), &other)
        .await;
    assert_eq!(r.body["sms"]["status"], "not_specified", "{}", r.body);

    // Bulk opt-out needs no legal basis.
    let r = app
        .post(
            "/api/v1/subscriptions/bulk",
            json!({"contact_ids": ids[..2], "channel": "sms", "status": "unsubscribed"}),
        )
        .await;
    assert_eq!(r.body, json!({"updated": 2, "failed": []}), "{}", r.body);
    assert_eq!(status_of(&app, &ids[0], "sms").await, "unsubscribed");
    assert_eq!(status_of(&app, &ids[3], "sms").await, "subscribed");
}

#[tokio::test]
async fn bulk_subscribe_without_legal_basis_is_422_legal_basis_required() {
    let app = spawn_app().await;
    let a = app.contact(json!({"firstname": "Ana"})).await;
    let b = app.contact(json!({"firstname": "Bruno"})).await;
    for body in [
        json!({"contact_ids": [a, b], "channel": "sms", "status": "subscribed"}),
        json!({"contact_ids": [a, b], "channel": "sms", "status": "subscribed", "legal_basis": "consent"}),
        json!({"contact_ids": [a, b], "channel": "sms", "status": "subscribed", "explanation": "list"}),
    ] {
        let r = app.post("/api/v1/subscriptions/bulk", body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (422, "legal_basis_required"),
            "{body}: {}",
            r.body
        );
    }
    for id in [&a, &b] {
        assert_eq!(status_of(&app, id, "sms").await, "not_specified");
    }
}

#[tokio::test]
async fn bulk_cannot_resubscribe_an_opted_out_contact_but_manual_put_can() {
    let app = spawn_app().await;
    let opted_out = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+55 11 91234-5678"}))
        .await;
    let fresh = app
        .contact(json!({"firstname": "Bruno", "mobilephone": "+55 11 98765-4321"}))
        .await;
    let no_phone = app.contact(json!({"firstname": "Carla"})).await;
    let r = app
        .put(
            &format!("/api/v1/contacts/{opted_out}/subscriptions/whatsapp"),
            json!({"status": "unsubscribed", "explanation": "replied STOP by mail"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = app
        .post(
            "/api/v1/subscriptions/bulk",
            json!({"contact_ids": [opted_out, fresh, no_phone], "channel": "whatsapp", "status": "subscribed",
                   "legal_basis": "consent", "explanation": "campaign list"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"updated": 1, "failed": [
            {"contact_id": opted_out, "code": "resubscribe_not_allowed"},
            {"contact_id": no_phone, "code": "no_whatsapp_phone"},
        ]})
    );
    assert_eq!(status_of(&app, &opted_out, "whatsapp").await, "unsubscribed");
    assert_eq!(history(&app, &opted_out, "whatsapp").await.len(), 1);
    assert_eq!(status_of(&app, &fresh, "whatsapp").await, "subscribed");

    // A user acting manually may subscribe the contact again.
    let r = app
        .put(
            &format!("/api/v1/contacts/{opted_out}/subscriptions/whatsapp"),
            json!({"status": "subscribed", "legal_basis": "consent", "explanation": "asked in person"}),
        )
        .await;
    assert_eq!((r.status, &r.body["status"]), (200, &json!("subscribed")), "{}", r.body);
    let h = history(&app, &opted_out, "whatsapp").await;
    assert_eq!(h.len(), 2);
    assert_eq!(
        (&h[0]["status"], &h[0]["source"]),
        (&json!("subscribed"), &json!("manual"))
    );
}

#[tokio::test]
async fn custom_keywords_are_listed_added_and_removed_by_admins() {
    let app = spawn_app().await;
    let (_, agent) = user_with_token(&app, "agent@example.com", "agent").await;
    let r = app.get("/api/v1/keywords").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    let stop = items.iter().find(|k| k["word"] == "STOP").expect("built-in STOP");
    assert_eq!((&stop["kind"], &stop["builtin"]), (&json!("opt_out"), &json!(true)));
    let start = items.iter().find(|k| k["word"] == "INICIAR").expect("built-in INICIAR");
    assert_eq!(start["kind"], "opt_in");
    let builtin_count = items.len();

    let r = app
        .post_as(
            "/api/v1/keywords",
            json!({"word": "BAJA", "kind": "opt_out", "language": "es"}),
            &agent,
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);

    let r = app
        .post(
            "/api/v1/keywords",
            json!({"word": " BAJA ", "kind": "opt_out", "language": "es"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (&r.body["word"], &r.body["kind"], &r.body["builtin"]),
        (&json!("BAJA"), &json!("opt_out"), &json!(false))
    );
    let r = app
        .post("/api/v1/keywords", json!({"word": "baja", "kind": "opt_out"}))
        .await;
    assert_eq!((r.status, r.code()), (409, "keyword_exists"), "{}", r.body);
    let r = app
        .post("/api/v1/keywords", json!({"word": "DAR DE BAJA", "kind": "opt_out"}))
        .await;
    assert_eq!((r.status, r.field()), (422, "word"), "{}", r.body);
    let r = app
        .post("/api/v1/keywords", json!({"word": "SIM", "kind": "maybe"}))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);

    // Agents may read the list.
    let r = app.get_as("/api/v1/keywords", &agent).await;
    assert_eq!(r.status, 200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), builtin_count + 1);
    let baja = items.iter().find(|k| k["word"] == "BAJA").expect("custom BAJA");
    assert_eq!((&baja["builtin"], &baja["language"]), (&json!(false), &json!("es")));

    // The custom keyword works on inbound messages.
    let ws = app.get("/api/v1/workspace").await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let id = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+34 612 345 678"}))
        .await;
    let store = &app.app_state.store;
    let contact = store.contact(&ws, &id).await.unwrap();
    let now = app.app_state.clock.now_ms();
    let found = apply_inbound_keyword(store, &contact, Channel::Sms, " baja ", now)
        .await
        .unwrap();
    assert!(found.is_some());
    assert_eq!(status_of(&app, &id, "sms").await, "unsubscribed");

    let r = app
        .send(app.client.delete(app.url("/api/v1/keywords/BAJA")).bearer_auth(&agent))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
    // A keyword is removed by any case of it, as it is matched.
    let r = app.delete("/api/v1/keywords/baja").await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app.delete("/api/v1/keywords/BAJA").await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    let r = app
        .post(
            "/api/v1/keywords",
            json!({"word": "SAÍDA", "kind": "opt_out", "language": "pt"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.delete("/api/v1/keywords/sa%C3%ADda").await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        app.get("/api/v1/keywords").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        builtin_count
    );
    // Built-in keywords cannot be removed.
    let r = app.delete("/api/v1/keywords/STOP").await;
    assert_eq!(r.status, 404, "{}", r.body);

    // Keywords belong to their workspace.
    app.post("/api/v1/keywords", json!({"word": "SAIR", "kind": "opt_out"}))
        .await;
    let other = app.other_workspace("acme").await;
    let r = app.get_as("/api/v1/keywords", &other).await;
    assert!(
        r.body["items"].as_array().unwrap().iter().all(|k| k["word"] != "SAIR"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn inbound_keywords_change_the_subscription_with_source_keyword() {
    let app = spawn_app().await;
    let ws = app.get("/api/v1/workspace").await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let id = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+55 11 91234-5678"}))
        .await;
    let store = &app.app_state.store;
    let contact = store.contact(&ws, &id).await.unwrap();

    // (text, whether it is a keyword, status after it, whether it changed anything)
    let steps: [(&str, bool, &str, bool); 12] = [
        ("  STOP \n", true, "unsubscribed", true),
        ("can I START getting news?", false, "unsubscribed", false),
        ("please stop", false, "unsubscribed", false),
        ("INICIAR", true, "subscribed", true),
        ("parar", true, "unsubscribed", true),
        ("Iniciar", true, "subscribed", true),
        ("Arrêter", true, "unsubscribed", true),
        ("start", true, "subscribed", true),
        ("ARRETER", true, "unsubscribed", true),
        ("開始", true, "subscribed", true),
        ("停止", true, "unsubscribed", true),
        ("STOP", true, "unsubscribed", false),
    ];
    let mut changes = Vec::new();
    for (text, is_keyword, status, changed) in steps {
        app.clock.advance(chrono::Duration::minutes(1));
        let now = app.app_state.clock.now_ms();
        let outcome = apply_inbound_keyword(store, &contact, Channel::Sms, text, now)
            .await
            .unwrap();
        assert_eq!(outcome.is_some(), is_keyword, "{text:?}");
        assert_eq!(status_of(&app, &id, "sms").await, status, "after {text:?}");
        if changed {
            changes.push((status, recado_core::clock::to_rfc3339(now)));
        }
        assert_eq!(history(&app, &id, "sms").await.len(), changes.len(), "after {text:?}");
    }

    let h = history(&app, &id, "sms").await;
    let seen: Vec<(&str, &str)> = h
        .iter()
        .map(|e| (e["status"].as_str().unwrap(), e["at"].as_str().unwrap()))
        .collect();
    let expected: Vec<(&str, &str)> = changes.iter().rev().map(|(s, at)| (*s, at.as_str())).collect();
    assert_eq!(seen, expected);
    for e in &h {
        assert_eq!(
            (&e["source"], &e["actor"]),
            (&json!("keyword"), &json!("system")),
            "{e}"
        );
        if e["status"] == "subscribed" {
            assert_eq!(e["legal_basis"], "consent", "{e}");
        }
    }
    // The keyword changed only the channel it arrived on.
    assert_eq!(status_of(&app, &id, "whatsapp").await, "not_specified");
    assert_eq!(status_of(&app, &id, "voice").await, "not_specified");

    // A contact's own opt-in keyword may re-subscribe them on WhatsApp too.
    app.put(
        &format!("/api/v1/contacts/{id}/subscriptions/whatsapp"),
        json!({"status": "unsubscribed"}),
    )
    .await;
    let now = app.app_state.clock.now_ms();
    apply_inbound_keyword(store, &contact, Channel::Whatsapp, "Start", now)
        .await
        .unwrap();
    assert_eq!(status_of(&app, &id, "whatsapp").await, "subscribed");
    let h = history(&app, &id, "whatsapp").await;
    assert_eq!(
        (&h[0]["source"], &h[1]["source"]),
        (&json!("keyword"), &json!("manual"))
    );
}
