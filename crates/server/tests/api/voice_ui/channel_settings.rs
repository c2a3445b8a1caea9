//! Voice channels in Settings → Channels: listed with their caller ids, the
//! Asterisk password never shown, refusals next to their field, and each
//! channel's connection test.

use super::{admin, app};
use crate::common::web::value_after;
use serde_json::json;

#[tokio::test]
async fn a_voice_channel_is_listed_with_its_kind_and_caller_ids() {
    let app = app().await;
    let web = admin(&app).await;
    let (status, page) = web
        .submit(
            "/settings/channels/new?kind=voice_sandbox",
            "/settings/channels/new",
            &[
                ("kind", "voice_sandbox"),
                ("name", "Calls"),
                ("caller_ids", "+34910000000\n+34910000001"),
                ("default_caller_id", "+34910000001"),
                ("ring_ms", "0"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"connected\""));
    let (_, list) = web.get("/settings/channels").await;
    assert!(list.contains("Voice sandbox"));
    assert!(
        list.contains("caller ids: +34910000000, +34910000001 (default)"),
        "{list}"
    );
}

#[tokio::test]
async fn an_asterisk_password_is_never_shown_and_kept_when_left_empty() {
    let app = app().await;
    let web = admin(&app).await;
    let (status, page) = web
        .submit(
            "/settings/channels/new?kind=voice_asterisk",
            "/settings/channels/new",
            &[
                ("kind", "voice_asterisk"),
                ("name", "PBX"),
                ("ari_url", "http://127.0.0.1:9/ari"),
                ("ari_user", "recado"),
                ("ari_password", "ari-secret-password"),
                ("dial_template", "PJSIP/{number}@trunk"),
                ("caller_ids", "+34910000000"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("ari-secret-password"));
    let id = value_after(&page, "data-channel=\"").unwrap().to_string();
    let path = format!("/settings/channels/{id}");
    let (_, edit) = web.get(&path).await;
    assert!(!edit.contains("ari-secret-password"));
    // Saved without retyping it: the stored password stays (it is required).
    let (status, location) = web
        .post(
            &path,
            &[
                ("csrf", &web.csrf(&path).await),
                ("name", "PBX 2"),
                ("ari_url", "http://127.0.0.1:9/ari"),
                ("ari_user", "recado"),
                ("ari_password", ""),
                ("dial_template", "PJSIP/{number}@trunk"),
                ("caller_ids", "+34910000000"),
            ],
        )
        .await;
    assert_eq!((status, location.as_str()), (303, format!("{path}?saved=1").as_str()));
}

#[tokio::test]
async fn a_voice_channel_form_shows_a_refusal_next_to_its_field() {
    let app = app().await;
    let web = admin(&app).await;
    let (status, page) = web
        .submit(
            "/settings/channels/new?kind=voice_asterisk",
            "/settings/channels/new",
            &[
                ("kind", "voice_asterisk"),
                ("name", "PBX"),
                ("ari_url", "http://127.0.0.1:9/ari"),
                ("ari_user", "recado"),
                ("ari_password", "pw"),
                ("dial_template", "PJSIP/trunk"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("id=\"e-dial_template\" role=\"alert\">the dial string names the number called as {number}"),
        "{page}"
    );
}

#[tokio::test]
async fn the_voice_sandbox_test_says_it_is_offline() {
    let app = app().await;
    let id = app
        .channel("voice_sandbox", "Calls", json!({"caller_ids": ["+34910000000"]}))
        .await;
    let web = admin(&app).await;
    let path = format!("/settings/channels/{id}");
    let (status, page) = web.submit(&path, &format!("{path}/test"), &[]).await;
    assert_eq!(status, 200);
    assert!(page.contains("The voice sandbox is offline"), "{page}");
    assert!(page.contains("Calls show +34910000000"));
}

#[tokio::test]
async fn the_asterisk_test_asks_ari_for_its_version_with_the_stored_credentials() {
    use axum::http::{HeaderMap, StatusCode};
    let app = app().await;
    let ari = axum::Router::new().route(
        "/ari/asterisk/info",
        axum::routing::get(|headers: HeaderMap| async move {
            // recado:ari-pw
            let right = headers
                .get("authorization")
                .is_some_and(|v| v == "Basic cmVjYWRvOmFyaS1wdw==");
            if right {
                (
                    StatusCode::OK,
                    r#"{"system": {"version": "22.10.1", "entity_id": "aa:bb"}}"#,
                )
            } else {
                (StatusCode::UNAUTHORIZED, r#"{"message": "Authentication required"}"#)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, ari).await });
    let config = |password: &str| {
        json!({"ari_url": format!("http://127.0.0.1:{port}/ari"), "ari_user": "recado",
               "ari_password": password, "dial_template": "PJSIP/{number}@trunk"})
    };
    let right = app.channel("voice_asterisk", "PBX", config("ari-pw")).await;
    let wrong = app.channel("voice_asterisk", "PBX wrong", config("nope")).await;
    let web = admin(&app).await;
    let test = |id: String| {
        let web = &web;
        async move {
            let path = format!("/settings/channels/{id}");
            web.submit(&path, &format!("{path}/test"), &[]).await.1
        }
    };
    let ok = test(right).await;
    assert!(ok.contains("Asterisk 22.10.1 answered"), "{ok}");
    let refused = test(wrong).await;
    assert!(
        refused.contains("notice error") && refused.contains("did not accept the test"),
        "{refused}"
    );
}
