use crate::common::spawn_app;
use recado_app::workers::{run_once, JobError, Registry};
use recado_core::jobs::{JobKind, Task};
use recado_store::jobs::{NewJob, DEAD, DONE, QUEUED};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

#[tokio::test]
async fn a_job_that_fails_with_retry_runs_again_after_its_back_off_then_completes() {
    let app = spawn_app().await;
    let state = app.app_state.clone();
    let calls = Arc::new(AtomicU32::new(0));
    let mut registry = Registry::default();
    let counter = calls.clone();
    registry.register(
        JobKind::WhatsAppTemplateSync,
        Arc::new(move |_state, _job| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n == 0 {
                    Err(JobError::Retry {
                        message: "provider busy".into(),
                        retry_after_ms: Some(30_000),
                    })
                } else {
                    Ok(())
                }
            })
        }),
    );
    let now = state.clock.now_ms();
    let job = NewJob {
        task: Task::WhatsAppTemplateSync {},
        workspace_id: None,
        run_at: now,
        max_attempts: 3,
    };
    let id = state.store.enqueue_job(&job, now).await.unwrap();

    assert!(run_once(&state, &registry, "w").await.unwrap());
    let after_first = state.store.job(&id).await.unwrap().unwrap();
    assert_eq!(after_first.status, QUEUED);
    assert!(after_first.run_at >= now + 30_000, "Retry-After is honoured");
    assert!(
        !run_once(&state, &registry, "w").await.unwrap(),
        "nothing is due before the back-off ends"
    );

    app.clock.advance(chrono::Duration::seconds(31));
    assert!(run_once(&state, &registry, "w").await.unwrap());
    assert_eq!(state.store.job(&id).await.unwrap().unwrap().status, DONE);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_job_whose_payload_cannot_be_read_is_buried_and_listed_for_admins() {
    let app = spawn_app().await;
    let state = app.app_state.clone();
    let ws = state.store.workspace_by_name("default").await.unwrap().unwrap();
    let now = state.clock.now_ms();
    let job = NewJob {
        task: Task::SmsSandboxReceipt {
            message_id: "msg_1".into(),
        },
        workspace_id: Some(&ws.id),
        run_at: now,
        max_attempts: 5,
    };
    let id = state.store.enqueue_job(&job, now).await.unwrap();
    // What an older or damaged row may hold: a payload without the fields of its kind.
    recado_store::on_writer!(state.store, |pool| {
        sqlx::query("UPDATE jobs SET payload = '{\"message\": 1}' WHERE id = $1")
            .bind(&id)
            .execute(pool)
            .await
            .unwrap();
    });
    assert!(run_once(&state, &Registry::default(), "w").await.unwrap());
    assert_eq!(state.store.job(&id).await.unwrap().unwrap().status, DEAD);
    let r = app.get("/api/v1/jobs?status=dead").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["items"][0]["id"], id.as_str());
    assert!(r.body["items"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("cannot be read"));
}
