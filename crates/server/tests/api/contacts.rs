//! Contacts: E.164 normalisation with the contact's own hints, the error
//! contract for bad properties, read/update/erase, search, paging, workspace
//! isolation and the timeline.

use crate::common::{spawn_app, Reply, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeSet;

async fn search(app: &TestApp, q: &str) -> Reply {
    search_as(app, q, &app.token).await
}

async fn search_as(app: &TestApp, q: &str, token: &str) -> Reply {
    app.send(
        app.client
            .get(app.url("/api/v1/contacts"))
            .query(&[("q", q)])
            .bearer_auth(token),
    )
    .await
}

fn ids_of(r: &Reply) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {}", r.body))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

async fn workspace_id(app: &TestApp) -> String {
    let r = app.get("/api/v1/workspace").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn national_number_takes_the_calling_code_of_the_contacts_country() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/contacts",
            json!({"properties": {"firstname": "Ana", "phone": "11 91234-5678", "country": "BR"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["phones"]["phone"], "+5511912345678");
    assert_eq!(r.body["phones"]["mobilephone"], Value::Null);
    assert_eq!(r.body["phones"]["whatsapp_phone"], Value::Null);
    // The property keeps what the user wrote; `phones` holds the E.164 form.
    assert_eq!(r.body["properties"]["phone"], "11 91234-5678");
    assert_eq!(r.body["properties"]["firstname"], "Ana");
    for key in ["id", "created_at", "updated_at"] {
        assert!(r.body[key].as_str().is_some_and(|s| !s.is_empty()), "{key}: {}", r.body);
    }
}

#[tokio::test]
async fn mobile_prefix_comes_before_the_country() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/contacts",
            json!({"properties": {"mobile_prefix": "+34", "mobilephone": "612345678"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["phones"]["mobilephone"], "+34612345678");

    let r = app
        .post(
            "/api/v1/contacts",
            json!({"properties": {"mobile_prefix": "+34", "country": "BR", "mobilephone": "612345678"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["phones"]["mobilephone"], "+34612345678");
}

#[tokio::test]
async fn workspace_default_country_is_used_last() {
    let app = spawn_app().await;
    // Without any hint a national number cannot be read.
    let r = app
        .post("/api/v1/contacts", json!({"properties": {"phone": "912 345 678"}}))
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_phone", "phone"),
        "{}",
        r.body
    );

    let r = app.patch("/api/v1/workspace", json!({"default_country": "PT"})).await;
    assert_eq!(
        (r.status, &r.body["default_country"]),
        (200, &json!("PT")),
        "{}",
        r.body
    );

    let r = app
        .post("/api/v1/contacts", json!({"properties": {"phone": "912 345 678"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["phones"]["phone"], "+351912345678");

    // The contact's own country and mobile prefix still win over the default.
    let r = app
        .post(
            "/api/v1/contacts",
            json!({"properties": {"phone": "11 91234-5678", "country": "BR"}}),
        )
        .await;
    assert_eq!(r.body["phones"]["phone"], "+5511912345678", "{}", r.body);
    let r = app
        .post(
            "/api/v1/contacts",
            json!({"properties": {"phone": "612345678", "mobile_prefix": "+34"}}),
        )
        .await;
    assert_eq!(r.body["phones"]["phone"], "+34612345678", "{}", r.body);
}

#[tokio::test]
async fn impossible_number_is_422_invalid_phone_naming_the_property() {
    let app = spawn_app().await;
    for (property, value) in [("phone", "123"), ("mobilephone", "+55 11"), ("whatsapp_phone", "12")] {
        let r = app
            .post(
                "/api/v1/contacts",
                json!({"properties": {"firstname": "Ana", "country": "BR", property: value}}),
            )
            .await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (422, "invalid_phone", property),
            "{}",
            r.body
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(property)),
            "{}",
            r.body
        );
    }
    // Nothing was stored.
    let r = app.get("/api/v1/contacts").await;
    assert_eq!(r.body["items"], json!([]), "{}", r.body);
}

#[tokio::test]
async fn bad_property_name_is_422_invalid_property_with_the_field() {
    let app = spawn_app().await;
    for name in ["First Name", "ação", "Email", ""] {
        let r = app.post("/api/v1/contacts", json!({"properties": {name: "x"}})).await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (422, "invalid_property", name),
            "{}",
            r.body
        );
    }
    let long = "a".repeat(65);
    let r = app
        .post("/api/v1/contacts", json!({"properties": {long.clone(): "x"}}))
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_property", long.as_str())
    );
    // 64 characters of a-z, 0-9 and _ is a fine custom property.
    let ok = format!("{}_9", "a".repeat(62));
    let r = app
        .post("/api/v1/contacts", json!({"properties": {ok.clone(): "x"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["properties"][ok.as_str()], "x");
}

#[tokio::test]
async fn bad_country_is_422_naming_country() {
    let app = spawn_app().await;
    for country in ["Brazil", "ZZ", "B1", "BRA"] {
        let r = app
            .post(
                "/api/v1/contacts",
                json!({"properties": {"country": country, "phone": "11 91234-5678"}}),
            )
            .await;
        assert_eq!(r.status, 422, "{country}: {}", r.body);
        assert_eq!(r.field(), "country", "{}", r.body);
    }
    // Lower case is read as the ISO code.
    let r = app
        .post(
            "/api/v1/contacts",
            json!({"properties": {"country": "br", "phone": "11 91234-5678"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (&r.body["properties"]["country"], &r.body["phones"]["phone"]),
        (&json!("BR"), &json!("+5511912345678"))
    );
}

#[tokio::test]
async fn get_returns_the_contact_as_created() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/v1/contacts",
            json!({"properties": {"firstname": "Ana", "email": "ana@example.com", "whatsapp_phone": "+55 11 91234-5678", "loyalty_tier": 2}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let r = app.get(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, created.body);
    assert_eq!(r.body["properties"]["loyalty_tier"], "2");
    assert_eq!(r.body["phones"]["whatsapp_phone"], "+5511912345678");
}

#[tokio::test]
async fn patch_with_null_clears_a_property_and_recomputes_phones() {
    let app = spawn_app().await;
    let id = app
        .contact(json!({"firstname": "Ana", "city": "Rio", "phone": "11 91234-5678", "country": "BR"}))
        .await;
    app.clock.advance(chrono::Duration::seconds(5));
    let r = app
        .patch(
            &format!("/api/v1/contacts/{id}"),
            json!({"properties": {"city": null, "lastname": "Souza", "phone": "+351 912 345 678"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["properties"],
        json!({"firstname": "Ana", "lastname": "Souza", "phone": "+351 912 345 678", "country": "BR"})
    );
    assert_eq!(r.body["phones"]["phone"], "+351912345678");
    assert_ne!(r.body["updated_at"], r.body["created_at"]);
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}")).await.body, r.body);

    // The old number no longer finds the contact; the new one does.
    assert_eq!(ids_of(&search(&app, "+55 11 91234-5678").await), Vec::<String>::new());
    assert_eq!(ids_of(&search(&app, "+351 912 345 678").await), vec![id.clone()]);

    // A national number is read with the contact's country again; clearing the
    // number clears its E.164 form.
    let r = app
        .patch(
            &format!("/api/v1/contacts/{id}"),
            json!({"properties": {"phone": "11 91234-5678"}}),
        )
        .await;
    assert_eq!(r.body["phones"]["phone"], "+5511912345678", "{}", r.body);
    let r = app
        .patch(
            &format!("/api/v1/contacts/{id}"),
            json!({"properties": {"phone": null}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["phones"]["phone"], Value::Null);
    assert!(r.body["properties"].get("phone").is_none(), "{}", r.body);
    assert_eq!(ids_of(&search(&app, "11 91234-5678").await), Vec::<String>::new());
}

#[tokio::test]
async fn rejected_patch_leaves_the_contact_unchanged() {
    let app = spawn_app().await;
    let id = app
        .contact(json!({"firstname": "Ana", "phone": "11 91234-5678", "country": "BR"}))
        .await;
    let before = app.get(&format!("/api/v1/contacts/{id}")).await.body;
    let r = app
        .patch(
            &format!("/api/v1/contacts/{id}"),
            json!({"properties": {"firstname": "Bia", "phone": "12"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_phone", "phone"),
        "{}",
        r.body
    );
    // Removing the country leaves a national number without a country.
    let r = app
        .patch(
            &format!("/api/v1/contacts/{id}"),
            json!({"properties": {"country": null}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_phone", "phone"),
        "{}",
        r.body
    );
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}")).await.body, before);
}

#[tokio::test]
async fn delete_is_204_then_404_and_the_contact_is_no_longer_found() {
    let app = spawn_app().await;
    let ws = workspace_id(&app).await;
    let id = app
        .contact(json!({"firstname": "Ana", "email": "ana@example.com", "phone": "11 91234-5678", "country": "BR"}))
        .await;
    let keep = app.contact(json!({"firstname": "Bruno"})).await;

    let r = app.delete(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!(r.status, 204);
    let r = app.get(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    let r = app.delete(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    let r = app
        .patch(
            &format!("/api/v1/contacts/{id}"),
            json!({"properties": {"firstname": "Ana"}}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);

    assert_eq!(ids_of(&search(&app, "ana").await), Vec::<String>::new());
    assert_eq!(ids_of(&search(&app, "ana@example.com").await), Vec::<String>::new());
    for form in ["+55 11 91234-5678", "11 91234-5678"] {
        assert_eq!(ids_of(&search(&app, form).await), Vec::<String>::new(), "{form}");
    }
    assert_eq!(ids_of(&app.get("/api/v1/contacts").await), vec![keep]);
    let store = &app.app_state.store;
    assert!(store.contact_by_phone(&ws, "+5511912345678").await.unwrap().is_none());
    assert!(store.contact_by_email(&ws, "ana@example.com").await.unwrap().is_none());
}

#[tokio::test]
async fn search_by_name_ignores_case() {
    let app = spawn_app().await;
    let ana = app.contact(json!({"firstname": "Ana", "lastname": "Souza"})).await;
    let bruno = app.contact(json!({"firstname": "Bruno", "lastname": "Lima"})).await;
    assert_eq!(ids_of(&search(&app, "ANA").await), vec![ana.clone()]);
    assert_eq!(ids_of(&search(&app, "souza").await), vec![ana.clone()]);
    assert_eq!(ids_of(&search(&app, "bRuNo").await), vec![bruno.clone()]);
    assert_eq!(ids_of(&search(&app, "carla").await), Vec::<String>::new());
    // Wildcards are literal.
    assert_eq!(ids_of(&search(&app, "%").await), Vec::<String>::new());
    assert_eq!(ids_of(&search(&app, "_").await), Vec::<String>::new());
    let both: BTreeSet<String> = ids_of(&search(&app, "a").await).into_iter().collect();
    assert_eq!(both, BTreeSet::from([ana, bruno]));
}

#[tokio::test]
async fn search_finds_a_contact_by_every_written_form_of_its_phone() {
    let app = spawn_app().await;
    let on_phone = app
        .contact(json!({"firstname": "Ana", "phone": "11 91234-5678", "country": "BR"}))
        .await;
    let on_mobile = app
        .contact(json!({"firstname": "Bruno", "mobilephone": "+55 21 98765-4321"}))
        .await;
    let on_whatsapp = app
        .contact(json!({"firstname": "Carla", "whatsapp_phone": "612 345 678", "mobile_prefix": "+34"}))
        .await;
    let _other = app
        .contact(json!({"firstname": "Diego", "phone": "+351 912 345 678"}))
        .await;

    for form in [
        "+55 11 91234-5678",
        "5511912345678",
        "11 91234-5678",
        "(11) 91234-5678",
        "+5511912345678",
    ] {
        assert_eq!(ids_of(&search(&app, form).await), vec![on_phone.clone()], "{form}");
    }
    for form in [
        "+55 21 98765-4321",
        "5521987654321",
        "(21) 98765-4321",
        "0055 21 98765 4321",
    ] {
        assert_eq!(ids_of(&search(&app, form).await), vec![on_mobile.clone()], "{form}");
    }
    for form in ["+34 612 345 678", "612345678", "0034612345678"] {
        assert_eq!(ids_of(&search(&app, form).await), vec![on_whatsapp.clone()], "{form}");
    }
    assert_eq!(ids_of(&search(&app, "+55 11 99999-0000").await), Vec::<String>::new());
}

#[tokio::test]
async fn list_is_the_items_and_next_cursor_envelope() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/contacts").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"items": [], "next_cursor": null}));
    let id = app.contact(json!({"firstname": "Ana"})).await;
    let r = app.get("/api/v1/contacts").await;
    let keys: BTreeSet<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["items", "next_cursor"]));
    assert_eq!(ids_of(&r), vec![id]);
    assert_eq!(r.body["next_cursor"], Value::Null);
    let item = &r.body["items"][0];
    for key in ["id", "properties", "phones", "created_at", "updated_at"] {
        assert!(item.get(key).is_some(), "{key}: {item}");
    }
}

#[tokio::test]
async fn paging_with_limit_and_cursor_returns_every_contact_exactly_once() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(app.contact(json!({"firstname": format!("Person {i}")})).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            None => "/api/v1/contacts?limit=3".to_string(),
            Some(c) => format!("/api/v1/contacts?limit=3&cursor={c}"),
        };
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = ids_of(&r);
        assert!(page.len() <= 3, "{}", r.body);
        seen.extend(page);
        pages += 1;
        assert!(pages <= 4, "paging does not end");
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a contact came twice: {seen:?}");
    assert_eq!(unique, created.iter().collect::<BTreeSet<_>>());
    // Newest first.
    created.reverse();
    assert_eq!(seen, created);

    // A search pages the same way.
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/contacts"))
                .query(&[("q", "person"), ("limit", "5")])
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(ids_of(&r).len(), 5);
    let cursor = r.body["next_cursor"]
        .as_str()
        .expect("a cursor after a full page")
        .to_string();
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/contacts"))
                .query(&[("q", "person"), ("limit", "5"), ("cursor", cursor.as_str())])
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(ids_of(&r), created[5..].to_vec());
    assert_eq!(r.body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn two_workspaces_never_see_each_others_contacts() {
    let app = spawn_app().await;
    let other = app.other_workspace("acme").await;
    let id = app
        .contact(
            json!({"firstname": "Ana", "phone": "11 91234-5678", "country": "BR", "mobilephone": "+55 11 98888-7777"}),
        )
        .await;
    let theirs = app
        .send(
            app.client
                .post(app.url("/api/v1/contacts"))
                .bearer_auth(&other)
                .json(&json!({"properties": {"firstname": "Ana", "phone": "+55 11 91234-5678"}})),
        )
        .await;
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    let theirs = theirs.body["id"].as_str().unwrap().to_string();

    let contact = format!("/api/v1/contacts/{id}");
    let r = app.get_as(&contact, &other).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    for q in ["ana", "+55 11 91234-5678", "(11) 91234-5678"] {
        assert_eq!(ids_of(&search_as(&app, q, &other).await), vec![theirs.clone()], "{q}");
        assert_eq!(ids_of(&search(&app, q).await), vec![id.clone()], "{q}");
    }
    assert_eq!(
        ids_of(&search_as(&app, "11 98888-7777", &other).await),
        Vec::<String>::new()
    );
    assert_eq!(ids_of(&search(&app, "11 98888-7777").await), vec![id.clone()]);
    assert_eq!(
        ids_of(&app.get_as("/api/v1/contacts", &other).await),
        vec![theirs.clone()]
    );

    let r = app
        .send(
            app.client
                .patch(app.url(&contact))
                .bearer_auth(&other)
                .json(&json!({"properties": {"firstname": "Mallory"}})),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    let r = app.send(app.client.delete(app.url(&contact)).bearer_auth(&other)).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);

    for path in [
        format!("{contact}/subscriptions"),
        format!("{contact}/subscriptions/sms/history"),
        format!("{contact}/timeline"),
    ] {
        let r = app.get_as(&path, &other).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{path}: {}", r.body);
    }
    let r = app
        .send(
            app.client
                .put(app.url(&format!("{contact}/subscriptions/sms")))
                .bearer_auth(&other)
                .json(&json!({"status": "unsubscribed"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    let r = app
        .post_as(
            "/api/v1/subscriptions/bulk",
            json!({"contact_ids": [id], "channel": "sms", "status": "unsubscribed"}),
            &other,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["updated"], 0);
    assert_eq!(r.body["failed"], json!([{"contact_id": id, "code": "not_found"}]));

    // The owner still sees the contact exactly as it was.
    let r = app.get(&contact).await;
    assert_eq!((r.status, &r.body["properties"]["firstname"]), (200, &json!("Ana")));
    let r = app.get(&format!("{contact}/subscriptions")).await;
    assert_eq!(r.body["sms"]["status"], "not_specified", "{}", r.body);
    // And the other workspace's contact is hidden from this one too.
    let r = app.get(&format!("/api/v1/contacts/{theirs}")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
}

#[tokio::test]
async fn timeline_lists_subscription_changes_newest_first() {
    let app = spawn_app().await;
    let id = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+55 11 91234-5678"}))
        .await;
    let changes = [
        (
            "sms",
            json!({"status": "subscribed", "legal_basis": "consent", "explanation": "signed up at the shop"}),
        ),
        (
            "whatsapp",
            json!({"status": "subscribed", "legal_basis": "contract", "explanation": "customer"}),
        ),
        (
            "sms",
            json!({"status": "unsubscribed", "explanation": "asked by phone"}),
        ),
    ];
    let mut times = Vec::new();
    for (channel, body) in &changes {
        app.clock.advance(chrono::Duration::minutes(1));
        let r = app
            .put(&format!("/api/v1/contacts/{id}/subscriptions/{channel}"), body.clone())
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        times.push(r.body["updated_at"].as_str().unwrap().to_string());
    }
    let r = app.get(&format!("/api/v1/contacts/{id}/timeline")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["next_cursor"], Value::Null);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{}", r.body);
    let seen: Vec<(String, String, String)> = items
        .iter()
        .map(|e| {
            assert_eq!(e["type"], "SUBSCRIPTION_CHANGED", "{e}");
            (
                e["details"]["channel"].as_str().unwrap().to_string(),
                e["details"]["status"].as_str().unwrap().to_string(),
                e["at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = changes
        .iter()
        .zip(&times)
        .rev()
        .map(|((channel, body), at)| {
            (
                channel.to_string(),
                body["status"].as_str().unwrap().to_string(),
                at.clone(),
            )
        })
        .collect();
    assert_eq!(seen, expected);
    for e in items {
        for key in ["message_id", "campaign", "sender", "details"] {
            assert!(e.get(key).is_some(), "{key}: {e}");
        }
    }

    // Paging the timeline keeps the order.
    let r = app.get(&format!("/api/v1/contacts/{id}/timeline?limit=2")).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let cursor = r.body["next_cursor"].as_str().unwrap().to_string();
    let r = app
        .get(&format!("/api/v1/contacts/{id}/timeline?limit=2&cursor={cursor}"))
        .await;
    let rest = r.body["items"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["at"], json!(times[0]));

    let r = app.get("/api/v1/contacts/ct_01jd0000000000000000000000/timeline").await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
}
