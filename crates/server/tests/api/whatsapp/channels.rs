//! WhatsApp channels: secrets never returned, settings checked per kind, and a
//! channel whose stored settings no longer read listed and repairable.

use super::*;

#[tokio::test]
async fn channel_secrets_are_never_returned_and_numbers_are_capped_at_25() {
    let wa = setup().await;
    let listed = wa.app.get("/api/v1/channels").await;
    let text = listed.body.to_string();
    assert!(!text.contains("EAAG-token") && !text.contains(APP_SECRET), "{text}");
    let numbers: Vec<Value> = (0..26).map(|i| json!({"phone_number_id": format!("p{i}")})).collect();
    let r = wa.app.post("/api/v1/channels", json!({"kind": "whatsapp_cloud", "name": "Big", "config": {"waba_id": "W", "phone_numbers": numbers, "access_token": "t", "app_secret": "s", "verify_token": "v"}})).await;
    assert_eq!((r.status, r.code()), (422, "too_many_phone_numbers"));
    let r = wa
        .app
        .post("/api/v1/channels", json!({"kind": "fax", "name": "x", "config": {}}))
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_kind"));
}

#[tokio::test]
async fn a_360dialog_channel_without_an_app_secret_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/channels",
            json!({"kind": "whatsapp_360dialog", "name": "BSP", "config": {
                "phone_numbers": [{"phone_number_id": "1", "display_phone_number": "+15550001111"}],
                "api_key": "key"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_config", "config.app_secret"),
        "{}",
        r.body
    );
    let list = app.get("/api/v1/channels").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0, "nothing stored");
}

#[tokio::test]
async fn a_channel_whose_stored_settings_cannot_be_read_is_listed_with_its_error_and_can_be_repaired() {
    let app = spawn_app().await;
    let good = app.channel("whatsapp_sandbox", "Sandbox", json!({})).await;
    let broken = app
        .channel(
            "whatsapp_360dialog",
            "BSP",
            json!({"phone_numbers": [{"phone_number_id": "1"}], "api_key": "key", "app_secret": "s"}),
        )
        .await;
    // As an older version stored it: an empty app secret.
    let state = &app.app_state;
    let ws = state.store.workspace_by_name("default").await.unwrap().unwrap();
    let mut record = state.store.channel(&ws.id, &broken).await.unwrap();
    record.secrets = state
        .secrets
        .seal(&json!({"access_token": null, "api_key": "key", "app_secret": "", "verify_token": "v"}));
    state.store.update_channel(&record, &[]).await.unwrap();

    let list = app.get("/api/v1/channels").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", list.body);
    let item = |id: &str| items.iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!(item(&broken)["error"]["code"], "unreadable_config");
    assert!(item(&good).get("error").is_none());

    let r = app
        .patch(
            &format!("/api/v1/channels/{broken}"),
            json!({"config": {"app_secret": "new-secret"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let one = app.get(&format!("/api/v1/channels/{broken}")).await;
    assert_eq!(one.status, 200);
    assert!(one.body.get("error").is_none(), "{}", one.body);
}
