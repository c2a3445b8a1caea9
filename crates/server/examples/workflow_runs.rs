//! Measures the workflow engine: a segment of `--contacts` subscribed
//! contacts (default 100,000) is enrolled in a workflow on activation, then
//! every run is advanced through branch → send SMS (sandbox) → wait for
//! delivery → end. Prints enrolments/s, runs through the send step per
//! second, then — with the hub's job workers and engine loop running as
//! `recado serve` runs them — provider sends per second until every run has
//! ended, the p50/p99 time from a delivery receipt to the wake of the run
//! waiting on it, and the peak resident memory. The API calls go through the
//! hub's router in process.
//!
//! cargo run --release -p recado --example workflow_runs
//! cargo run --release -p recado --example workflow_runs -- --database-url postgres://postgres@127.0.0.1/recado_wf_bench

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};
use std::time::Instant;
use tower::ServiceExt;

mod support;
use support::peak_rss_mb;

struct Args {
    contacts: usize,
    workers: usize,
    deliver: bool,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        contacts: 100_000,
        workers: 2,
        deliver: true,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--contacts" => a.contacts = value.parse().expect("--contacts is a number"),
            "--deliver" => a.deliver = value.parse().expect("--deliver is true or false"),
            "--workers" => a.workers = value.parse().expect("--workers is a number"),
            "--database-url" => a.database_url = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

#[tokio::main]
async fn main() {
    let a = args();
    let bench = support::Bench::start("wf", a.database_url.as_deref(), |_| {}).await;
    let (state, store, ws) = (bench.state.clone(), bench.store.clone(), bench.ws.clone());
    let now = state.clock.now_ms();
    let (_, token) = bench.user_with_token("admin").await;
    let router = recado_web::router(state.clone());
    let call = |path: String, body: Value| {
        let router = router.clone();
        let token = token.clone();
        async move {
            let req = Request::post(path)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let res = router.oneshot(req).await.unwrap();
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            assert!(status.is_success(), "{status}: {body}");
            body
        }
    };
    call(
        "/api/v1/channels".into(),
        json!({"kind": "sms_sandbox", "name": "SMS", "config": {"senders": ["Recado"]}}),
    )
    .await;
    let started = Instant::now();
    recado_store::testing::seed_subscribed_contacts(&store, &ws, 0, a.contacts, now)
        .await
        .expect("contacts seeded");
    recado_store::on_writer!(store, |pool| {
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    });
    println!(
        "backend {:?}: seeded {} contacts in {:.1} s",
        store.kind(),
        a.contacts,
        started.elapsed().as_secs_f64()
    );
    let segment = call(
        "/api/v1/segments".into(),
        json!({"name": "SMS", "filter": {"subscription": "sms", "op": "eq", "value": "subscribed"}}),
    )
    .await;
    let workflow = call(
        "/api/v1/workflows".into(),
        json!({"name": "Bench", "definition": {
            "triggers": [{"type": "segment", "segment_id": segment["id"]}],
            "start": "known",
            "nodes": {
                "known": {"type": "branch", "condition": {"property": "firstname", "op": "is_known"}, "then": "send", "else": "done"},
                "send": {"type": "send_sms", "from": "Recado", "text": "Oi {{contact.firstname}}", "next": "wait"},
                "wait": {"type": "wait_event", "of": "send", "events": ["SMS_DELIVERED", "SMS_NOT_DELIVERED"], "timeout": "PT1H",
                         "on": {"SMS_DELIVERED": "done", "SMS_NOT_DELIVERED": "done", "timeout": "done"}},
                "done": {"type": "end"}
            }
        }}),
    )
    .await;
    let id = workflow["id"].as_str().unwrap().to_string();
    call(format!("/api/v1/workflows/{id}/publish"), json!({})).await;

    // Enrolment: activation queues the segment's pages; the job workers run them.
    let registry = recado_app::workers::Registry::builtin();
    let started = Instant::now();
    call(
        format!("/api/v1/workflows/{id}/activate"),
        json!({"enrol_existing": true}),
    )
    .await;
    while recado_app::workers::run_once(&state, &registry, "bench-worker")
        .await
        .unwrap()
    {}
    let enrol_s = started.elapsed().as_secs_f64();
    let enrolled = store.workflow(&ws, &id).await.unwrap().enrolled;
    assert_eq!(enrolled as usize, a.contacts);
    println!(
        "enrolled {enrolled} contacts in {enrol_s:.2} s ({:.0}/s)",
        enrolled as f64 / enrol_s
    );

    // Advance: each run takes the branch, makes its send and parks on the wait.
    let started = Instant::now();
    let advanced = recado_app::workflows::engine::advance_all_due(&state, "bench-engine")
        .await
        .unwrap();
    let advance_s = started.elapsed().as_secs_f64();
    println!(
        "advanced {advanced} runs through branch and send in {advance_s:.2} s ({:.0} runs/s, {:.0} steps/s)",
        advanced as f64 / advance_s,
        advanced as f64 * 2.0 / advance_s
    );

    if !a.deliver {
        println!("peak RSS {:.0} MB", peak_rss_mb());
        bench.finish();
        return;
    }
    // Delivery: the hub's workers submit each send to the sandbox, which
    // reports it delivered; each receipt wakes its run, which the engine
    // loop takes to the end.
    let mut settings = (*state.settings).clone();
    settings.workers = a.workers;
    let state = recado_app::AppState {
        settings: std::sync::Arc::new(settings),
        ..state.clone()
    };
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let workers = recado_app::workers::spawn(&state, shutdown);
    loop {
        let ended: i64 = store
            .run_counts(&id)
            .await
            .unwrap()
            .iter()
            .filter(|c| c.status.is_ended())
            .map(|c| c.n)
            .sum();
        if ended as usize >= a.contacts {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let deliver_s = started.elapsed().as_secs_f64();
    stop.send(true).unwrap();
    workers.drain(&state).await;
    println!(
        "{} workers: {} sends submitted, delivered and their runs ended in {deliver_s:.2} s ({:.0} sends/s)",
        a.workers,
        a.contacts,
        a.contacts as f64 / deliver_s
    );
    let mut waits: Vec<i64> = recado_store::on_writer!(store, |pool| {
        sqlx::query_scalar(
            "SELECT l.at - e.at FROM workflow_log l \
             JOIN workflow_sends s ON s.run_id = l.run_id AND s.node_id = 'send' \
             JOIN message_events e ON e.message_id = s.message_id AND e.type IN ('delivered', 'not_delivered') \
             WHERE l.workflow_id = $1 AND l.node_id = 'wait' AND l.outcome = 'resumed'",
        )
        .bind(&id)
        .fetch_all(pool)
        .await
        .unwrap()
    });
    waits.sort_unstable();
    let pct = |p: f64| {
        waits
            .get(((waits.len() as f64 * p) as usize).min(waits.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "receipt → wake of the waiting run over {} runs: p50 {} ms, p99 {} ms, max {} ms",
        waits.len(),
        pct(0.50),
        pct(0.99),
        waits.last().copied().unwrap_or(0)
    );
    println!("peak RSS {:.0} MB", peak_rss_mb());
    bench.finish();
}
