//! Measures the inbox views with many threads: the time the hub takes to
//! render the views page (HTML, with the counts of every view), the list API
//! and a search, called in process through the router (server time, no
//! network). It seeds `--threads` threads (default 10,000), each with a
//! contact, a ticket (open or closed, some assigned) and two messages.
//!
//! cargo run --release -p recado --example inbox_views
//! cargo run --release -p recado --example inbox_views -- --database-url postgres://postgres@127.0.0.1/recado_bench

use axum::body::Body;
use axum::http::Request;

use recado_store::inbox::WebSessionWrite;
mod support;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const ROUNDS: usize = 60;

struct Args {
    threads: usize,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        threads: 10_000,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--threads" => a.threads = value.parse().expect("--threads is a number"),
            "--database-url" => a.database_url = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// Inserts the threads in batches, in one transaction per batch.
async fn seed(store: &recado_store::Store, ws: &str, agent: &str, n: usize, now: i64) {
    const BATCH: usize = 500;
    for start in (0..n).step_by(BATCH) {
        let end = (start + BATCH).min(n);
        recado_store::on_writer!(store, |pool| {
            let mut tx = pool.begin().await.unwrap();
            for i in start..end {
                let ct = format!("ct_bench{i:08}");
                let thr = format!("thr_bench{i:08}");
                let at = now - (n - i) as i64 * 60_000;
                let props = serde_json::json!({"firstname": format!("Cliente {i}"), "lastname": "Silva"}).to_string();
                sqlx::query("INSERT INTO contacts (id, workspace_id, properties, search_text, email, created_at, updated_at) VALUES ($1, $2, $3, $4, NULL, $5, $5)")
                    .bind(&ct).bind(ws).bind(&props).bind(format!("cliente {i}\nsilva\n")).bind(at)
                    .execute(&mut *tx).await.unwrap();
                sqlx::query("INSERT INTO threads (id, workspace_id, contact_id, channel, channel_id, account, last_message_at, last_inbound_at, session_started_at, unread, created_at) VALUES ($1, $2, $3, $4, 'ch_bench', 'acc', $5, $5, $5, $6, $5)")
                    .bind(&thr).bind(ws).bind(&ct).bind(if i % 5 == 0 { "sms" } else { "whatsapp" }).bind(at).bind((i % 3) as i64)
                    .execute(&mut *tx).await.unwrap();
                let status = if i % 4 == 0 { "closed" } else { "open" };
                let owner = (i % 7 == 0).then_some(agent);
                sqlx::query("INSERT INTO tickets (id, workspace_id, thread_id, status, owner_id, priority, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'normal', $6, $6)")
                    .bind(format!("tkt_bench{i:08}")).bind(ws).bind(&thr).bind(status).bind(owner).bind(at)
                    .execute(&mut *tx).await.unwrap();
                for (k, (direction, text)) in [
                    ("in", format!("Olá, o meu pedido {i} ainda não chegou")),
                    ("out", "Vamos verificar já.".to_string()),
                ]
                .into_iter()
                .enumerate()
                {
                    sqlx::query("INSERT INTO messages (id, workspace_id, channel, channel_id, thread_id, contact_id, direction, status, type, text, content, created_at, updated_at, quarantined, counted) VALUES ($1, $2, 'whatsapp', 'ch_bench', $3, $4, $5, 'received', 'text', $6, '{}', $7, $7, $8, $8)")
                        .bind(format!("msg_bench{i:08}{k}")).bind(ws).bind(&thr).bind(&ct).bind(direction).bind(text).bind(at + k as i64).bind(false)
                        .execute(&mut *tx).await.unwrap();
                }
            }
            tx.commit().await.unwrap();
        });
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let a = args();
    let bench = support::Bench::start("inbox", a.database_url.as_deref(), |_| {}).await;
    let (state, store, ws) = (bench.state.clone(), bench.store.clone(), bench.ws.clone());
    let now = state.clock.now_ms();
    let (agent, api_token) = bench.user_with_token("agent").await;
    let token = "bench-session-token";
    store
        .create_web_session(&WebSessionWrite {
            token_hash: &recado_app::auth::hash_token(token),
            workspace_id: &ws,
            user_id: &agent.id,
            csrf_token: "csrf",
            now,
            expires_at: now + 3_600_000,
        })
        .await
        .unwrap();
    let started = Instant::now();
    seed(&store, &ws, &agent.id, a.threads, now).await;
    // Planner statistics, as PostgreSQL's autovacuum keeps them on a live database.
    recado_store::on_writer!(store, |pool| {
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    });
    println!(
        "backend {:?}: seeded {} threads ({} messages) in {:.1} s",
        store.kind(),
        a.threads,
        a.threads * 2,
        started.elapsed().as_secs_f64()
    );
    let router = recado_web::router(state.clone());
    let cases = [
        ("views page, all open (HTML)", "/inbox?view=open", true),
        ("views page, all closed (HTML)", "/inbox?view=closed", true),
        ("views page, assigned to me (HTML)", "/inbox?view=mine", true),
        (
            "views page, search \"pedido 4321\" (HTML)",
            "/inbox?view=all&q=pedido+4321",
            true,
        ),
        ("GET /api/v1/threads?status=open", "/api/v1/threads?status=open", false),
        ("GET /api/v1/threads/counts", "/api/v1/threads/counts", false),
    ];
    println!("| request | median | p95 | max |\n|---|---|---|---|");
    for (label, path, page) in cases {
        let mut times = Vec::with_capacity(ROUNDS);
        for round in 0..ROUNDS + 5 {
            let mut req = Request::get(path);
            req = if page {
                req.header("cookie", format!("recado_session={token}"))
            } else {
                req.header("authorization", format!("Bearer {api_token}"))
            };
            let t = Instant::now();
            let res = router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
            let spent = t.elapsed();
            assert!(
                status.is_success(),
                "{path}: {status} {}",
                String::from_utf8_lossy(&body)
            );
            if round >= 5 {
                times.push(spent);
            }
        }
        times.sort();
        println!(
            "| {label} | {:.1} ms | {:.1} ms | {:.1} ms |",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            percentile(&times, 1.0)
        );
    }
    store.close().await;
    bench.finish();
}
