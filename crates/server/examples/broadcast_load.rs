//! Measures a broadcast to a segment of `--contacts` generated subscribed
//! contacts (default 1,000,000): the estimate's time; the preparation of
//! every recipient on its own (pages written back to back, nothing sent,
//! the job's back-pressure set aside); then, with the hub's dispatcher and
//! job workers running as `recado serve` runs them, a second broadcast of
//! `--dispatch` recipients (default 100,000) prepared and sent to the
//! sandbox with the back-pressure on, until it is done; the campaign page's
//! p50/p95 with every message and event of both in the database; the CSV
//! export's rows per second; and the peak resident memory. API calls go
//! through the hub's router in process.
//!
//! cargo run --release -p recado --example broadcast_load
//! cargo run --release -p recado --example broadcast_load -- --database-url postgres://postgres@127.0.0.1/recado_bc_bench

use axum::body::Body;
use axum::http::Request;
use recado_app::broadcasts::prepare::{write_next_page, Page};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tower::ServiceExt;

mod support;
use support::peak_rss_mb;

struct Args {
    contacts: usize,
    dispatch: usize,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        contacts: 1_000_000,
        dispatch: 100_000,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--contacts" => a.contacts = value.parse().expect("--contacts is a number"),
            "--dispatch" => a.dispatch = value.parse().expect("--dispatch is a number"),
            "--database-url" => a.database_url = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

#[tokio::main]
async fn main() {
    let a = args();
    let bench = support::Bench::start("bc", a.database_url.as_deref(), |s| s.workers = 2).await;
    let (state, store, ws) = (bench.state.clone(), bench.store.clone(), bench.ws.clone());
    let now = state.clock.now_ms();
    let (_, token) = bench.user_with_token("admin").await;
    let router = recado_web::router(state.clone());
    let request = |method: &str, path: String, body: Option<Value>| {
        let router = router.clone();
        let token = token.clone();
        let method = method.to_string();
        async move {
            let req = Request::builder()
                .method(method.as_str())
                .uri(path)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
                .unwrap();
            let res = router.oneshot(req).await.unwrap();
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
            assert!(
                status.is_success(),
                "{status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            );
            bytes
        }
    };
    let call = |path: &str, body: Value| {
        let r = request("POST", path.to_string(), Some(body));
        async move { serde_json::from_slice::<Value>(&r.await).unwrap_or(Value::Null) }
    };
    call(
        "/api/v1/channels",
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
        "backend {:?}: generated {} subscribed contacts in {:.1} s",
        store.kind(),
        a.contacts,
        started.elapsed().as_secs_f64()
    );
    let everyone = call(
        "/api/v1/segments",
        json!({"name": "Everyone", "filter": {"subscription": "sms", "op": "eq", "value": "subscribed"}}),
    )
    .await;
    let text = "Oi {{contact.firstname}}, a feira começa amanhã: https://loja.example/feira Sair: {UNSUB_URL}";
    let body = |segment: &Value, name: &str| json!({"name": name, "segment_id": segment["id"], "channel": "sms", "text": text, "shorten_urls": true});

    // The estimate: every member through the send path's rules, nothing written.
    let started = Instant::now();
    let estimate = call("/api/v1/broadcasts/estimate", body(&everyone, "Estimate")).await;
    println!(
        "estimate of {} members in {:.1} s: {} messages, {} parts",
        estimate["recipients"],
        started.elapsed().as_secs_f64(),
        estimate["messages"],
        estimate["parts"]["total"]
    );

    // Preparation on its own: pages written back to back, nothing sent
    // (no dispatcher runs yet).
    let b = call("/api/v1/broadcasts", body(&everyone, "Preparation")).await;
    let prepared_campaign = b["campaign_id"].as_str().unwrap().to_string();
    let record = store.broadcast(&ws, b["id"].as_str().unwrap()).await.unwrap();
    let started = Instant::now();
    let mut prepared = 0;
    loop {
        let b = store.broadcast(&ws, &record.id).await.unwrap();
        match write_next_page(&state, &b).await.expect("page written") {
            Page::Written { recipients, last } => {
                prepared += recipients;
                if last {
                    break;
                }
            }
            Page::NotKept => panic!("a page was not kept"),
        }
    }
    let prepare_s = started.elapsed().as_secs_f64();
    println!(
        "prepared {prepared} recipients (messages, short links, send jobs, timeline) in {prepare_s:.1} s ({:.0}/s), peak RSS so far {:.0} MB",
        prepared as f64 / prepare_s,
        peak_rss_mb()
    );
    // That broadcast is not sent: cancelled, its messages settle as not sent
    // when the dispatcher meets them.
    call(&format!("/api/v1/broadcasts/{}/cancel", record.id), json!({})).await;

    // Dispatch with back-pressure, as `recado serve` runs it.
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let workers = recado_app::workers::spawn(&state, shutdown);
    // Let the cancelled broadcast's messages settle first.
    while store.queued_in_campaign(&prepared_campaign).await.unwrap() > 0 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let part = call(
        "/api/v1/segments",
        json!({"name": "Part", "filter": {"property": "mobilephone", "op": "lt", "value": 5_511_910_000_000_u64 + a.dispatch as u64}}),
    )
    .await;
    let started = Instant::now();
    let b = call("/api/v1/broadcasts", body(&part, "Dispatch")).await;
    let id = b["id"].as_str().unwrap().to_string();
    let campaign = b["campaign_id"].as_str().unwrap().to_string();
    let done = loop {
        let b: Value = serde_json::from_slice(&request("GET", format!("/api/v1/broadcasts/{id}"), None).await).unwrap();
        if b["status"] == "done" {
            break b;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let dispatch_s = started.elapsed().as_secs_f64();
    stop.send(true).unwrap();
    workers.drain(&state).await;
    println!(
        "broadcast of {} recipients prepared and sent to the sandbox in {dispatch_s:.1} s ({:.0}/s), {} sent",
        done["prepared"],
        done["prepared"].as_f64().unwrap_or(0.0) / dispatch_s,
        done["sent"]
    );

    // The campaign page's statistics with every message of both broadcasts stored.
    let events: i64 = recado_store::on_writer!(store, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT COUNT(*) FROM message_events) + (SELECT COUNT(*) FROM timeline_events)",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    let mut times = Vec::new();
    for _ in 0..100 {
        let started = Instant::now();
        request("GET", format!("/api/v1/campaigns/{campaign}"), None).await;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    println!(
        "campaign statistics with {events} message and timeline events stored: p50 {:.1} ms, p95 {:.1} ms",
        times[49].as_secs_f64() * 1000.0,
        times[94].as_secs_f64() * 1000.0
    );
    println!("peak RSS before the export {:.0} MB", peak_rss_mb());
    // The export read as a client reads it, chunk by chunk.
    let started = Instant::now();
    let req = Request::get(format!("/api/v1/campaigns/{prepared_campaign}/export.csv"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let mut stream = res.into_body().into_data_stream();
    let mut lines = 0usize;
    while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
        lines += chunk.unwrap().iter().filter(|b| **b == b'\n').count();
    }
    let rows = lines.saturating_sub(1);
    let export_s = started.elapsed().as_secs_f64();
    println!(
        "CSV export of {rows} recipients in {export_s:.1} s ({:.0} rows/s), peak RSS {:.0} MB",
        rows as f64 / export_s,
        peak_rss_mb()
    );
    bench.finish();
}
