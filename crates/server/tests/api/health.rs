use crate::common::spawn_app;
use recado_core::clock::Clock;

#[tokio::test]
async fn healthz_answers_ok_once_the_database_is_reachable() {
    let app = spawn_app().await;
    let r = app.send(app.client.get(app.url("/healthz"))).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn api_without_a_valid_token_is_401_with_the_error_body() {
    let app = spawn_app().await;
    let r = app.send(app.client.get(app.url("/api/v1/contacts"))).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    assert!(r.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    let r = app.get_as("/api/v1/contacts", "rcd_not_a_real_token").await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_request_counts() {
    let app = spawn_app().await;
    app.get("/api/v1/contacts").await;
    let text = app.metrics_page().await;
    assert!(text.contains("recado_http_requests_total"), "{text}");
}

#[tokio::test]
async fn metrics_show_the_job_queue_by_kind_and_state_and_how_long_the_oldest_job_is_due() {
    let app = spawn_app().await;
    let store = &app.app_state.store;
    let now = app.clock.now_ms();
    for (id, run_at) in [("msg_a", now - 30_000), ("msg_b", now + 60_000)] {
        let job = recado_store::jobs::NewJob {
            task: recado_core::jobs::Task::SmsSend { message_id: id.into() },
            workspace_id: None,
            run_at,
            max_attempts: 1,
        };
        store.enqueue_job(&job, now).await.unwrap();
    }
    assert_eq!(
        app.metric(r#"recado_jobs{kind="sms.send",state="queued"}"#).await,
        Some(2.0)
    );
    assert_eq!(
        app.metric(r#"recado_jobs{kind="sms.send",state="dead"}"#).await,
        Some(0.0)
    );
    assert_eq!(
        app.metric(r#"recado_job_oldest_due_seconds{kind="sms.send"}"#).await,
        Some(30.0)
    );
    assert_eq!(
        app.metric(r#"recado_job_oldest_due_seconds{kind="webhook.deliver"}"#)
            .await,
        Some(0.0)
    );
}

#[tokio::test]
async fn openapi_document_lists_the_contract_paths() {
    let app = spawn_app().await;
    let r = app.send(app.client.get(app.url("/api/openapi.json"))).await;
    assert_eq!(r.status, 200);
    for path in [
        "/api/v1/contacts",
        "/api/v1/contacts/{id}/subscriptions/{channel}",
        "/api/v1/sms/analyze",
        "/api/v1/subscriptions/bulk",
    ] {
        assert!(r.body["paths"][path].is_object(), "missing {path}");
    }
}

#[tokio::test]
async fn demo_data_fills_an_empty_workspace_once_with_contacts_channels_and_conversations() {
    let app = spawn_app().await;
    recado::demo::fill_if_empty(&app.app_state).await.unwrap();
    app.run_jobs().await;
    let contacts = app.get("/api/v1/contacts").await;
    assert_eq!(contacts.body["items"].as_array().unwrap().len(), 5);
    let channels = app.get("/api/v1/channels").await;
    let kinds: Vec<&str> = channels.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"whatsapp_sandbox") && kinds.contains(&"sms_sandbox"),
        "{kinds:?}"
    );
    let open = app.get("/api/v1/threads?status=open").await;
    let channels: Vec<&str> = open.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["channel"].as_str().unwrap())
        .collect();
    assert_eq!(
        channels.iter().filter(|c| **c == "whatsapp").count(),
        2,
        "{}",
        open.body
    );
    assert_eq!(channels.iter().filter(|c| **c == "sms").count(), 1, "{}", open.body);
    // A second start with data changes nothing.
    recado::demo::fill_if_empty(&app.app_state).await.unwrap();
    let again = app.get("/api/v1/contacts").await;
    assert_eq!(again.body["items"].as_array().unwrap().len(), 5);
}
