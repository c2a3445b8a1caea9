//! Segments: saved filters over contacts, their counts and members, each
//! operator of the condition language through the API, and the refusals.

use crate::common::{spawn_app, TestApp};
use recado_app::segments::ContactFacts;
use recado_flow::Condition;
use recado_store::timeline::NewTimelineEvent;
use serde_json::{json, Value};

/// Creates a segment and returns its body (asserting 201).
async fn segment(app: &TestApp, filter: Value) -> Value {
    let r = app
        .post("/api/v1/segments", json!({"name": "test segment", "filter": filter}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

/// The ids of a segment's contacts, every page followed (`limit` per page).
async fn members(app: &TestApp, id: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/segments/{id}/contacts?limit={limit}&cursor={c}"),
            None => format!("/api/v1/segments/{id}/contacts?limit={limit}"),
        };
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        ids.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_string()));
        match r.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
    }
}

async fn workspace_id(app: &TestApp) -> String {
    app.app_state
        .store
        .workspace_by_name("default")
        .await
        .unwrap()
        .expect("the default workspace")
        .id
}

/// Records a timeline event for a contact, as a send's receipt or click would.
async fn event(app: &TestApp, contact: &str, kind: &str, campaign: Option<&str>, at: &str) {
    let ws = workspace_id(app).await;
    let at = chrono::DateTime::parse_from_rfc3339(at).unwrap().timestamp_millis();
    app.app_state
        .store
        .add_timeline_event(&NewTimelineEvent {
            workspace_id: &ws,
            contact_id: contact,
            kind,
            at,
            message_id: None,
            campaign,
            sender: Some("RECADO"),
            details: json!({}),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_new_segment_is_201_with_its_filter_and_the_number_of_matching_contacts() {
    let app = spawn_app().await;
    app.contact(json!({"firstname": "Ana", "country": "BR"})).await;
    app.contact(json!({"firstname": "Bia", "country": "br"})).await;
    app.contact(json!({"firstname": "Carla", "country": "PT"})).await;
    let filter = json!({"property": "country", "op": "eq", "value": "BR"});
    let r = app
        .post("/api/v1/segments", json!({"name": " Brazil ", "filter": filter}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body["id"].as_str().unwrap().starts_with("sg_"), "{}", r.body);
    assert_eq!(
        (&r.body["name"], &r.body["filter"], &r.body["count"]),
        (&json!("Brazil"), &filter, &json!(2))
    );
    let got = app
        .get(&format!("/api/v1/segments/{}", r.body["id"].as_str().unwrap()))
        .await;
    assert_eq!((got.status, &got.body), (200, &r.body));
}

#[tokio::test]
async fn the_segment_list_shows_every_segment_with_its_count_newest_first() {
    let app = spawn_app().await;
    app.contact(json!({"city": "Lisboa"})).await;
    let lisbon = segment(&app, json!({"property": "city", "op": "eq", "value": "lisboa"})).await;
    let porto = segment(&app, json!({"property": "city", "op": "eq", "value": "porto"})).await;
    let r = app.get("/api/v1/segments").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed: Vec<(&Value, &Value)> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (&s["id"], &s["count"]))
        .collect();
    assert_eq!(listed, vec![(&porto["id"], &json!(0)), (&lisbon["id"], &json!(1))]);
    assert_eq!(r.body["next_cursor"], Value::Null);
    let first = app.get("/api/v1/segments?limit=1").await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/api/v1/segments?limit=1&cursor={cursor}")).await;
    assert_eq!(second.body["items"][0]["id"], lisbon["id"]);
}

#[tokio::test]
async fn a_segments_contacts_are_listed_as_the_contacts_api_shows_them_page_by_page() {
    let app = spawn_app().await;
    let mut vips = Vec::new();
    for n in 0..5 {
        vips.push(
            app.contact(json!({"firstname": format!("V{n}"), "vip": true, "phone": format!("+5511912345{n:03}")}))
                .await,
        );
    }
    app.contact(json!({"firstname": "Not", "vip": false})).await;
    let id = segment(&app, json!({"property": "vip", "op": "eq", "value": true})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(members(&app, &id, 2).await, vips, "ascending ids, no gaps, every page");
    let page = app.get(&format!("/api/v1/segments/{id}/contacts?limit=1")).await;
    let shown = app.get(&format!("/api/v1/contacts/{}", vips[0])).await;
    assert_eq!(page.body["items"][0], shown.body);
}

#[tokio::test]
async fn each_property_operator_selects_the_contacts_its_rule_names() {
    let app = spawn_app().await;
    let ana = app
        .contact(json!({"firstname": "Ana", "city": "São Paulo", "age": 34, "signup": "2026-11-10"}))
        .await;
    let bia = app
        .contact(json!({"firstname": "Bia", "city": "SÃO PAULO", "age": "17", "signup": "2025-01-31T12:00:00Z"}))
        .await;
    let carla = app.contact(json!({"firstname": "Carla", "city": "Lisboa"})).await;
    let cases = [
        (
            json!({"property": "city", "op": "eq", "value": "são paulo"}),
            vec![&ana, &bia],
        ),
        (
            json!({"property": "city", "op": "neq", "value": "são paulo"}),
            vec![&carla],
        ),
        (json!({"property": "age", "op": "is_known"}), vec![&ana, &bia]),
        (json!({"property": "age", "op": "is_unknown"}), vec![&carla]),
        (
            json!({"property": "city", "op": "contains", "value": "PAUL"}),
            vec![&ana, &bia],
        ),
        (json!({"property": "age", "op": "gt", "value": 18}), vec![&ana]),
        (json!({"property": "age", "op": "lt", "value": 18.5}), vec![&bia]),
        (json!({"property": "age", "op": "eq", "value": 34.0}), vec![&ana]),
        // The clock reads 2026-11-16T09:00:00Z.
        (
            json!({"property": "signup", "op": "after", "value": "-P7D"}),
            vec![&ana],
        ),
        (
            json!({"property": "signup", "op": "before", "value": "2026-01-01T00:00:00Z"}),
            vec![&bia],
        ),
    ];
    for (filter, want) in cases {
        let id = segment(&app, filter.clone()).await["id"].as_str().unwrap().to_string();
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(members(&app, &id, 50).await, want, "{filter}");
    }
}

#[tokio::test]
async fn subscription_conditions_count_a_contact_never_asked_as_not_specified() {
    let app = spawn_app().await;
    let subscribed = app.contact(json!({"firstname": "Ana"})).await;
    app.subscribe(&subscribed, "sms").await;
    let never = app.contact(json!({"firstname": "Bia"})).await;
    let r = app
        .put(
            &format!("/api/v1/contacts/{never}/subscriptions/whatsapp"),
            json!({"status": "unsubscribed", "legal_basis": "consent", "explanation": "asked"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (filter, want) in [
        (
            json!({"subscription": "sms", "op": "eq", "value": "subscribed"}),
            vec![&subscribed],
        ),
        (
            json!({"subscription": "sms", "op": "eq", "value": "not_specified"}),
            vec![&never],
        ),
        (
            json!({"subscription": "sms", "op": "neq", "value": "subscribed"}),
            vec![&never],
        ),
        (
            json!({"subscription": "whatsapp", "op": "eq", "value": "unsubscribed"}),
            vec![&never],
        ),
    ] {
        let id = segment(&app, filter.clone()).await["id"].as_str().unwrap().to_string();
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(members(&app, &id, 50).await, want, "{filter}");
    }
}

#[tokio::test]
async fn event_conditions_look_at_a_campaigns_events_within_their_times() {
    let app = spawn_app().await;
    let clicked = app.contact(json!({"firstname": "Ana"})).await;
    let long_ago = app.contact(json!({"firstname": "Bia"})).await;
    let other_campaign = app.contact(json!({"firstname": "Carla"})).await;
    event(&app, &clicked, "SMS_CLICKED", Some("BF"), "2026-11-15T10:00:00Z").await;
    event(&app, &long_ago, "SMS_CLICKED", Some("BF"), "2026-10-01T10:00:00Z").await;
    event(
        &app,
        &other_campaign,
        "SMS_CLICKED",
        Some("XMAS"),
        "2026-11-15T10:00:00Z",
    )
    .await;
    for (filter, want) in [
        (
            json!({"event": "SMS_CLICKED", "campaign": "BF", "op": "is_known"}),
            vec![&clicked, &long_ago],
        ),
        (
            json!({"event": "SMS_CLICKED", "campaign": "BF", "since": "-P7D", "op": "is_known"}),
            vec![&clicked],
        ),
        (
            json!({"event": "SMS_CLICKED", "campaign": "BF", "until": "2026-10-01T10:00:00Z", "op": "is_known"}),
            vec![&long_ago],
        ),
        (
            json!({"event": "SMS_CLICKED", "since": "-P7D", "sender": "RECADO", "op": "is_known"}),
            vec![&clicked, &other_campaign],
        ),
        (
            json!({"event": "SMS_CLICKED", "campaign": "BF", "op": "is_unknown"}),
            vec![&other_campaign],
        ),
    ] {
        let id = segment(&app, filter.clone()).await["id"].as_str().unwrap().to_string();
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(members(&app, &id, 50).await, want, "{filter}");
    }
}

#[tokio::test]
async fn groups_combine_conditions_with_all_and_any() {
    let app = spawn_app().await;
    let ana = app.contact(json!({"country": "BR", "age": 30})).await;
    app.contact(json!({"country": "BR", "age": 10})).await;
    let carla = app.contact(json!({"country": "PT", "vip": true})).await;
    let filter = json!({"any": [
        {"all": [{"property": "country", "op": "eq", "value": "BR"}, {"property": "age", "op": "gt", "value": 18}]},
        {"property": "vip", "op": "eq", "value": true}
    ]});
    let id = segment(&app, filter).await["id"].as_str().unwrap().to_string();
    assert_eq!(members(&app, &id, 50).await, vec![ana, carla]);
}

#[tokio::test]
async fn counts_follow_contact_changes_clears_erasure_and_imports() {
    let app = spawn_app().await;
    let lisbon = json!({"property": "city", "op": "eq", "value": "lisboa"});
    let ana = app.contact(json!({"city": "Porto"})).await;
    let id = segment(&app, lisbon.clone()).await["id"].as_str().unwrap().to_string();
    let count_now = || async { app.get(&format!("/api/v1/segments/{id}")).await.body["count"].clone() };
    assert_eq!(count_now().await, json!(0));
    let r = app
        .patch(
            &format!("/api/v1/contacts/{ana}"),
            json!({"properties": {"city": "LISBOA"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(count_now().await, json!(1), "an update");
    let r = app
        .patch(
            &format!("/api/v1/contacts/{ana}"),
            json!({"properties": {"city": null}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(count_now().await, json!(0), "a cleared property");
    let bia = app.contact(json!({"city": "Lisboa"})).await;
    assert_eq!(count_now().await, json!(1));
    assert_eq!(app.delete(&format!("/api/v1/contacts/{bia}")).await.status, 204);
    assert_eq!(count_now().await, json!(0), "an erased contact");
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/contacts/import"))
                .bearer_auth(&app.token)
                .header("Content-Type", "text/csv")
                .body("firstname,city\nCarla,lisboa\nDora,Faro\n"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(count_now().await, json!(1), "an import");
}

#[tokio::test]
async fn patching_a_segments_filter_changes_its_count_and_members() {
    let app = spawn_app().await;
    app.contact(json!({"city": "Lisboa"})).await;
    let bia = app.contact(json!({"city": "Porto"})).await;
    let id = segment(&app, json!({"property": "city", "op": "eq", "value": "Lisboa"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let porto = json!({"property": "city", "op": "eq", "value": "Porto"});
    let r = app
        .patch(&format!("/api/v1/segments/{id}"), json!({"filter": porto}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (&r.body["name"], &r.body["filter"], &r.body["count"]),
        (&json!("test segment"), &porto, &json!(1))
    );
    assert_eq!(members(&app, &id, 50).await, vec![bia]);
    let r = app
        .patch(&format!("/api/v1/segments/{id}"), json!({"name": "Porto"}))
        .await;
    assert_eq!((&r.body["name"], &r.body["filter"]), (&json!("Porto"), &porto));
}

#[tokio::test]
async fn a_refused_patch_changes_nothing() {
    let app = spawn_app().await;
    let filter = json!({"property": "city", "op": "is_known"});
    let before = segment(&app, filter.clone()).await;
    let id = before["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/segments/{id}"),
            json!({"name": "renamed", "filter": {"property": "city", "op": "gt", "value": "x"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_condition", "filter.value")
    );
    let after = app.get(&format!("/api/v1/segments/{id}")).await;
    assert_eq!(after.body, before);
}

#[tokio::test]
async fn a_deleted_segment_is_gone() {
    let app = spawn_app().await;
    let id = segment(&app, json!({"property": "city", "op": "is_known"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.delete(&format!("/api/v1/segments/{id}")).await;
    assert_eq!(r.status, 204);
    let r = app.get(&format!("/api/v1/segments/{id}")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app.get("/api/v1/segments").await;
    assert_eq!(r.body["items"], json!([]));
}

#[tokio::test]
async fn an_invalid_condition_is_422_with_the_field_inside_filter() {
    let app = spawn_app().await;
    for (filter, field) in [
        (
            json!({"all": [{"property": "city", "op": "like", "value": "x"}]}),
            "filter.all[0].op",
        ),
        (
            json!({"any": [{"subscription": "fax", "op": "eq", "value": "subscribed"}]}),
            "filter.any[0].subscription",
        ),
        (
            json!({"property": "signup", "op": "before", "value": "yesterday"}),
            "filter.value",
        ),
        (json!({"event": "SMS_TELEPORTED", "op": "is_known"}), "filter.event"),
        (json!({"all": []}), "filter.all"),
        (json!("country = BR"), "filter"),
        (Value::Null, "filter"),
    ] {
        let r = app
            .post("/api/v1/segments", json!({"name": "x", "filter": filter}))
            .await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (422, "invalid_condition", field),
            "{filter}: {}",
            r.body
        );
    }
    let r = app.get("/api/v1/segments").await;
    assert_eq!(r.body["items"], json!([]), "nothing stored");
}

#[tokio::test]
async fn an_event_condition_about_a_workflow_send_is_refused_in_a_segment() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/segments",
            json!({"name": "x", "filter": {"all": [{"event": "SMS_CLICKED", "of": "n1", "op": "is_known"}]}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_condition", "filter.all[0].of")
    );
    assert!(
        r.body["error"]["message"].as_str().unwrap().contains("campaign"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_segment_needs_a_name() {
    let app = spawn_app().await;
    let filter = json!({"property": "city", "op": "is_known"});
    let r = app
        .post("/api/v1/segments", json!({"name": "  ", "filter": filter}))
        .await;
    assert_eq!((r.status, r.code(), r.field()), (422, "invalid_name", "name"));
    let r = app.post("/api/v1/segments", json!({"filter": filter})).await;
    assert_eq!((r.status, r.field()), (422, "name"));
}

#[tokio::test]
async fn an_unreadable_body_is_400() {
    let app = spawn_app().await;
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/segments"))
                .bearer_auth(&app.token)
                .header("Content-Type", "application/json")
                .body("{\"name\": \"x\", \"filter\": {"),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "bad_request"));
}

#[tokio::test]
async fn an_unknown_or_another_workspaces_segment_is_404() {
    let app = spawn_app().await;
    let theirs_token = app.other_workspace("globex").await;
    let r = app
        .post_as(
            "/api/v1/segments",
            json!({"name": "theirs", "filter": {"property": "city", "op": "is_known"}}),
            &theirs_token,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let theirs = r.body["id"].as_str().unwrap().to_string();
    for id in [theirs.as_str(), "sg_01jd000000000000000000000", "nothing"] {
        let paths = [
            format!("/api/v1/segments/{id}"),
            format!("/api/v1/segments/{id}/contacts"),
        ];
        for path in &paths {
            let r = app.get(path).await;
            assert_eq!((r.status, r.code()), (404, "not_found"), "{path}");
        }
        let r = app.patch(&paths[0], json!({"name": "mine"})).await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
        let r = app.delete(&paths[0]).await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
    }
    let still = app.get_as(&format!("/api/v1/segments/{theirs}"), &theirs_token).await;
    assert_eq!((still.status, &still.body["name"]), (200, &json!("theirs")));
}

#[tokio::test]
async fn agents_read_segments_but_only_admins_change_them() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": "agent@example.com", "name": "Agent", "password": "correct horse battery", "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let agent = r.body["id"].as_str().unwrap().to_string();
    let token = recado_app::auth::generate_token();
    app.app_state
        .store
        .create_token(
            &recado_core::ids::new_id(recado_core::ids::IdKind::Token),
            &workspace_id(&app).await,
            &agent,
            "tests",
            &recado_app::auth::hash_token(&token),
            app.app_state.clock.now_ms(),
        )
        .await
        .unwrap();
    let filter = json!({"property": "city", "op": "is_known"});
    let id = segment(&app, filter.clone()).await["id"].as_str().unwrap().to_string();
    for path in [
        "/api/v1/segments".to_string(),
        format!("/api/v1/segments/{id}"),
        format!("/api/v1/segments/{id}/contacts"),
    ] {
        assert_eq!(app.get_as(&path, &token).await.status, 200, "{path}");
    }
    let r = app
        .post_as("/api/v1/segments", json!({"name": "x", "filter": filter}), &token)
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let as_agent = |req: reqwest::RequestBuilder| req.bearer_auth(&token);
    let r = app
        .send(as_agent(app.client.patch(app.url(&format!("/api/v1/segments/{id}")))).json(&json!({"name": "y"})))
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .send(as_agent(app.client.delete(app.url(&format!("/api/v1/segments/{id}")))))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        app.get(&format!("/api/v1/segments/{id}")).await.body["name"],
        "test segment"
    );
}

#[tokio::test]
async fn a_contacts_facts_match_a_condition_as_the_segment_query_does() {
    let app = spawn_app().await;
    let ws = workspace_id(&app).await;
    let ana = app.contact(json!({"city": "Straße", "age": 30})).await;
    app.subscribe(&ana, "sms").await;
    event(&app, &ana, "SMS_CLICKED", Some("BF"), "2026-11-15T10:00:00Z").await;
    let bia = app.contact(json!({"city": "STRASSE", "age": "x"})).await;
    let conditions = [
        json!({"property": "city", "op": "eq", "value": "straße"}),
        json!({"property": "city", "op": "contains", "value": "SS"}),
        json!({"property": "age", "op": "gt", "value": 18}),
        json!({"subscription": "sms", "op": "eq", "value": "not_specified"}),
        json!({"any": [
            {"event": "SMS_CLICKED", "campaign": "BF", "since": "-P1D", "op": "is_known"},
            {"property": "age", "op": "is_unknown"}
        ]}),
        json!({"event": "SMS_CLICKED", "op": "is_unknown", "until": "2026-11-15T09:59:59Z"}),
    ];
    let now = app.app_state.clock.now_ms();
    for json in conditions {
        let condition = Condition::parse(&json).unwrap();
        for contact in [&ana, &bia] {
            let facts = ContactFacts::load(&app.app_state, &ws, contact, &condition, now)
                .await
                .unwrap();
            let in_sql = app
                .app_state
                .store
                .contact_matches(&ws, contact, &condition, now)
                .await
                .unwrap();
            assert_eq!(condition.matches(&facts, now), in_sql, "{json} for {contact}");
        }
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_segment_paths() {
    let app = spawn_app().await;
    let r = app.send(app.client.get(app.url("/api/openapi.json"))).await;
    for path in [
        "/api/v1/segments",
        "/api/v1/segments/{id}",
        "/api/v1/segments/{id}/contacts",
    ] {
        assert!(r.body["paths"][path].is_object(), "missing {path}");
    }
    assert!(r.body["components"]["schemas"]["SegmentView"].is_object());
}
