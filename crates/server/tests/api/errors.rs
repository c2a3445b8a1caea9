//! Bad input always gets the error contract — `{"error": {"code", "message",
//! "field"?}}` with a stable code — and the server keeps serving afterwards.

use crate::common::{spawn_app, spawn_app_with, Reply, TestApp};
use serde_json::{json, Value};

/// The body is exactly the error envelope, with the given status and code.
fn assert_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let outer = r
        .body
        .as_object()
        .unwrap_or_else(|| panic!("a JSON object: {}", r.body));
    assert_eq!(outer.keys().collect::<Vec<_>>(), ["error"], "{}", r.body);
    let error = r.body["error"].as_object().unwrap();
    for key in error.keys() {
        assert!(
            ["code", "message", "field"].contains(&key.as_str()),
            "unexpected `{key}`: {}",
            r.body
        );
    }
    assert_eq!(r.body["error"]["code"], code, "{}", r.body);
    assert!(
        code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "code is snake_case: {code}"
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.trim().is_empty()),
        "a message: {}",
        r.body
    );
    if let Some(field) = error.get("field") {
        assert!(
            field.as_str().is_some_and(|f| !f.is_empty()),
            "field is a name: {}",
            r.body
        );
    }
}

async fn still_serving(app: &TestApp) {
    let r = app.send(app.client.get(app.url("/healthz"))).await;
    assert_eq!((r.status, &r.body["status"]), (200, &json!("ok")));
    let r = app.get("/api/v1/contacts").await;
    assert_eq!(r.status, 200);
}

async fn post_raw(app: &TestApp, path: &str, body: &str, content_type: Option<&str>) -> Reply {
    let mut req = app
        .client
        .post(app.url(path))
        .bearer_auth(&app.token)
        .body(body.to_string());
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    app.send(req).await
}

#[tokio::test]
async fn malformed_json_is_400_bad_request() {
    let app = spawn_app().await;
    for body in [
        "{",
        "{\"properties\": {\"firstname\": \"Ana\"}",
        "not json",
        "",
        "{\"properties\": {}} trailing",
    ] {
        let r = post_raw(&app, "/api/v1/contacts", body, Some("application/json")).await;
        assert_error(&r, 400, "bad_request");
    }
    let r = post_raw(&app, "/api/v1/sms/analyze", "{'text': 'x'}", Some("application/json")).await;
    assert_error(&r, 400, "bad_request");
    still_serving(&app).await;
    assert_eq!(app.get("/api/v1/contacts").await.body["items"], json!([]));
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_422_naming_the_field() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/contacts", json!({"properties": 5})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_error(&r, 422, r.code());
    assert_eq!(r.field(), "properties");

    for value in [json!(["x"]), json!({"a": 1})] {
        let r = app
            .post("/api/v1/contacts", json!({"properties": {"firstname": value}}))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_error(&r, 422, r.code());
        assert!(r.field().contains("firstname"), "{}", r.body);
    }

    // A missing or unknown member is named too.
    let r = app.post("/api/v1/contacts", json!({})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_error(&r, 422, r.code());
    assert_eq!(r.field(), "properties", "{}", r.body);
    let r = app
        .post("/api/v1/contacts", json!({"properties": {}, "extra": true}))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_error(&r, 422, r.code());
    assert_eq!(r.field(), "extra", "{}", r.body);
    let r = app
        .post("/api/v1/sms/analyze", json!({"text": "hi", "max_segments": "five"}))
        .await;
    assert_error(&r, 422, r.code());
    assert_eq!(r.field(), "max_segments");
    let r = app.post("/api/v1/sms/analyze", json!({"text": 7})).await;
    assert_error(&r, 422, r.code());
    assert_eq!(r.field(), "text");
    still_serving(&app).await;
}

#[tokio::test]
async fn a_body_without_json_content_type_is_415() {
    let app = spawn_app().await;
    let body = r#"{"properties": {"firstname": "Ana"}}"#;
    for ct in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let r = post_raw(&app, "/api/v1/contacts", body, ct).await;
        assert_error(&r, 415, "unsupported_media_type");
    }
    // A charset parameter is fine.
    let r = post_raw(&app, "/api/v1/contacts", body, Some("application/json; charset=utf-8")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    still_serving(&app).await;
}

#[tokio::test]
async fn an_oversized_body_is_413_payload_too_large() {
    let app = spawn_app_with(|s| s.max_body_bytes = 1024).await;
    let big = json!({"properties": {"notes": "x".repeat(4096)}}).to_string();
    let r = post_raw(&app, "/api/v1/contacts", &big, Some("application/json")).await;
    assert_error(&r, 413, "payload_too_large");
    let csv = format!("notes\n{}\n", "y".repeat(4096));
    let r = post_raw(&app, "/api/v1/contacts/import", &csv, Some("text/csv")).await;
    assert_error(&r, 413, "payload_too_large");
    // A body under the limit is still accepted, and nothing of the big one was stored.
    let r = app
        .post("/api/v1/contacts", json!({"properties": {"notes": "short"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        app.get("/api/v1/contacts").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    still_serving(&app).await;
}

#[tokio::test]
async fn unknown_route_is_404_not_found_json() {
    let app = spawn_app().await;
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v2/contacts",
        "/api/v1/contacts/x/unknown",
    ] {
        let r = app.get(path).await;
        assert_error(&r, 404, "not_found");
    }
    let r = app.send(app.client.get(app.url("/api/v1/nothing-here"))).await;
    assert!(r.status == 404 || r.status == 401, "{}", r.status);
    assert_error(&r, r.status, r.code());
    let r = app.get("/api/v1/contacts/ct_01jd0000000000000000000000").await;
    assert_error(&r, 404, "not_found");
    still_serving(&app).await;
}

#[tokio::test]
async fn wrong_method_is_405_json() {
    let app = spawn_app().await;
    let r = app.put("/api/v1/contacts", json!({})).await;
    assert_error(&r, 405, "method_not_allowed");
    let r = app.post("/healthz", json!({})).await;
    assert_error(&r, 405, "method_not_allowed");
    let r = app.delete("/api/v1/subscriptions/bulk").await;
    assert_error(&r, 405, "method_not_allowed");
    let r = app
        .post("/api/v1/contacts/ct_01jd0000000000000000000000", json!({}))
        .await;
    assert_error(&r, 405, "method_not_allowed");
    still_serving(&app).await;
}

#[tokio::test]
async fn a_non_numeric_limit_is_422() {
    let app = spawn_app().await;
    let id = app.contact(json!({"firstname": "Ana"})).await;
    for path in [
        "/api/v1/contacts?limit=abc".to_string(),
        "/api/v1/users?limit=abc".to_string(),
        format!("/api/v1/contacts/{id}/timeline?limit=1.5"),
        format!("/api/v1/contacts/{id}/subscriptions/sms/history?limit=abc"),
    ] {
        let r = app.get(&path).await;
        assert_error(&r, 422, r.code());
        assert_eq!(r.field(), "limit", "{path}: {}", r.body);
    }
    // Out-of-range limits are clamped, not refused.
    for limit in ["0", "100000", "-3"] {
        let r = app.get(&format!("/api/v1/contacts?limit={limit}")).await;
        assert_eq!(r.status, 200, "{limit}: {}", r.body);
    }
    still_serving(&app).await;
}

#[tokio::test]
async fn missing_or_bad_token_is_401_and_wrong_role_403_in_the_same_shape() {
    let app = spawn_app().await;
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/contacts"))
                .json(&json!({"properties": {}})),
        )
        .await;
    assert_error(&r, 401, "unauthorized");
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/contacts"))
                .header("Authorization", "Basic YWRtaW46YWRtaW4="),
        )
        .await;
    assert_error(&r, 401, "unauthorized");
    let r = app.get_as("/api/v1/users", "").await;
    assert_error(&r, 401, "unauthorized");
    // Only admins of the default workspace may create workspaces.
    let other = app.other_workspace("acme").await;
    let r = app
        .post_as(
            "/api/v1/workspaces",
            json!({"name": "beta", "admin_email": "boss@beta.example"}),
            &other,
        )
        .await;
    assert_error(&r, 403, "forbidden");
    still_serving(&app).await;
}

#[tokio::test]
async fn errors_never_leave_partial_data_behind() {
    let app = spawn_app().await;
    let id = app
        .contact(json!({"firstname": "Ana", "phone": "+55 11 91234-5678"}))
        .await;
    let before: Value = app.get(&format!("/api/v1/contacts/{id}")).await.body;
    let bad_patches = [
        json!({"properties": {"firstname": "Bia", "Bad Name": "x"}}),
        json!({"properties": {"firstname": "Bia", "phone": "12"}}),
        json!({"properties": {"firstname": "Bia", "email": "nope"}}),
        json!({"properties": {"firstname": "Bia", "tags": ["a"]}}),
    ];
    for body in bad_patches {
        let r = app.patch(&format!("/api/v1/contacts/{id}"), body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_error(&r, 422, r.code());
    }
    let r = app
        .send(
            app.client
                .patch(app.url(&format!("/api/v1/contacts/{id}")))
                .bearer_auth(&app.token)
                .header("Content-Type", "application/json")
                .body("{\"properties\": {\"firstname\": \"Bia\""),
        )
        .await;
    assert_error(&r, 400, "bad_request");
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}")).await.body, before);
    still_serving(&app).await;
}

#[tokio::test]
async fn a_nul_character_in_a_json_body_is_422_naming_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let r = app
        .post("/api/v1/contacts", json!({"properties": {"firstname": "A\u{0}na"}}))
        .await;
    assert_error(&r, 422, "invalid_value");
    assert_eq!(r.field(), "properties.firstname");
    let list = app.get("/api/v1/contacts").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_nul_character_in_a_query_value_is_422_naming_the_parameter() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/contacts?q=a%00b").await;
    assert_error(&r, 422, "invalid_query");
    assert_eq!(r.field(), "q");
}

#[tokio::test]
async fn a_nul_character_in_a_path_names_nothing() {
    let app = spawn_app().await;
    assert_error(&app.get("/api/v1/contacts/ct_%00").await, 404, "not_found");
    let r = app
        .send(
            app.client
                .post(app.url("/webhooks/whatsapp/ch%00"))
                .header("content-type", "application/json")
                .body("{}"),
        )
        .await;
    assert_error(&r, 404, "not_found");
}

#[tokio::test]
async fn a_json_array_where_an_object_is_expected_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/contacts"))
                .bearer_auth(&app.token)
                .header("content-type", "application/json")
                .body(r#"[{"firstname": "Ana"}]"#),
        )
        .await;
    assert_error(&r, 422, "invalid_value");
    let list = app.get("/api/v1/contacts").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_400() {
    let app = spawn_app().await;
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/contacts"))
                .bearer_auth(&app.token)
                .header("content-type", "application/json")
                .body(b"{\"properties\": {\"firstname\": \"Jo\xe3o\"}}".to_vec()),
        )
        .await;
    assert_error(&r, 400, "bad_request");
}

#[tokio::test]
async fn an_undecodable_unsubscribe_token_or_link_code_is_not_found() {
    let app = spawn_app().await;
    for path in ["/u/%ff", "/s/%ff"] {
        let status = app.client.get(app.url(path)).send().await.unwrap().status();
        assert_eq!(status, 404, "{path}");
    }
}
