//! Measures the contacts list page over many contacts: the time the hub
//! takes to render a page of 50 (HTML, with the chosen columns' consent),
//! first and deep in the list, unfiltered, with the quick search and with
//! property and consent filters, and the count of matches that the page
//! fetches after it has shown, called in
//! process through the router (server time, no network). It seeds
//! `--contacts` contacts (default 100,000) subscribed to SMS, a tenth of
//! them unsubscribed again, each with a city.
//!
//! cargo run --release -p recado --example contacts_list
//! cargo run --release -p recado --example contacts_list -- --database-url postgres://postgres@127.0.0.1/recado_bench

use axum::body::Body;
use axum::http::Request;
use recado_store::inbox::WebSessionWrite;
mod support;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const ROUNDS: usize = 40;

struct Args {
    contacts: usize,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        contacts: 100_000,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--contacts" => a.contacts = value.parse().expect("--contacts is a number"),
            "--database-url" => a.database_url = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Gives every contact a city (one of ten) and unsubscribes every tenth
/// from SMS, the way the property and consent services write them.
async fn vary(store: &recado_store::Store, ws: &str) {
    recado_store::on_writer!(store, |pool| {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM contacts WHERE workspace_id = $1 ORDER BY id")
            .bind(ws)
            .fetch_all(pool)
            .await
            .unwrap();
        for (n, chunk) in ids.chunks(1000).enumerate() {
            let mut tx = pool.begin().await.unwrap();
            for (i, id) in chunk.iter().enumerate() {
                let k = n * 1000 + i;
                let city = format!("Cidade {}", k % 10);
                sqlx::query("INSERT INTO contact_property_values (workspace_id, contact_id, property, text_lower, num, at_ms, flag) VALUES ($1, $2, 'city', $3, NULL, NULL, NULL)")
                    .bind(ws).bind(id).bind(city.to_lowercase())
                    .execute(&mut *tx).await.unwrap();
                if k % 10 == 0 {
                    sqlx::query("UPDATE subscriptions SET status = 'unsubscribed' WHERE workspace_id = $1 AND contact_id = $2 AND channel = 'sms'")
                        .bind(ws).bind(id)
                        .execute(&mut *tx).await.unwrap();
                }
            }
            tx.commit().await.unwrap();
        }
    });
}

#[tokio::main]
async fn main() {
    let a = args();
    let bench = support::Bench::start("contacts", a.database_url.as_deref(), |_| {}).await;
    let (state, store, ws) = (bench.state.clone(), bench.store.clone(), bench.ws.clone());
    let now = state.clock.now_ms();
    let (admin, _) = bench.user_with_token("admin").await;
    let token = "bench-session-token";
    store
        .create_web_session(&WebSessionWrite {
            token_hash: &recado_app::auth::hash_token(token),
            workspace_id: &ws,
            user_id: &admin.id,
            csrf_token: "csrf",
            now,
            expires_at: now + 3_600_000,
        })
        .await
        .unwrap();
    let started = Instant::now();
    recado_store::testing::seed_subscribed_contacts(&store, &ws, 0, a.contacts, now)
        .await
        .unwrap();
    vary(&store, &ws).await;
    recado_store::on_writer!(store, |pool| {
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    });
    println!(
        "backend {:?}: seeded {} contacts in {:.1} s",
        store.kind(),
        a.contacts,
        started.elapsed().as_secs_f64()
    );
    // A contact half way down the list: where a deep page starts.
    let middle: String = recado_store::on_reader!(store, |pool| {
        sqlx::query_scalar::<_, String>("SELECT id FROM contacts WHERE workspace_id = $1 ORDER BY id LIMIT 1 OFFSET $2")
            .bind(&ws)
            .bind(i64::try_from(a.contacts / 2).unwrap())
            .fetch_one(pool)
            .await
            .unwrap()
    });
    let columns = "cols=1&col=phones&col=firstname&col=sub%3Asms&col=sub%3Awhatsapp";
    let cases = [
        ("all contacts, first page".to_string(), format!("/contacts?{columns}")),
        (
            "all contacts, page in the middle".to_string(),
            format!("/contacts?{columns}&before={middle}"),
        ),
        (
            "quick search \"cliente 4242\"".to_string(),
            format!("/contacts?{columns}&q=cliente+4242"),
        ),
        (
            "city = Cidade 3".to_string(),
            format!("/contacts?{columns}&property=city&op=eq&value=Cidade+3"),
        ),
        (
            "city = Cidade 3, page in the middle".to_string(),
            format!("/contacts?{columns}&property=city&op=eq&value=Cidade+3&before={middle}"),
        ),
        (
            "SMS unsubscribed".to_string(),
            format!("/contacts?{columns}&sub_channel=sms&sub_status=unsubscribed"),
        ),
        (
            "city = Cidade 3 and SMS subscribed".to_string(),
            format!("/contacts?{columns}&property=city&op=eq&value=Cidade+3&sub_channel=sms&sub_status=subscribed"),
        ),
        (
            "count of city = Cidade 3 (fetched after the page)".to_string(),
            "/contacts/count?property=city&op=eq&value=Cidade+3".to_string(),
        ),
        (
            "count of SMS unsubscribed (fetched after the page)".to_string(),
            "/contacts/count?sub_channel=sms&sub_status=unsubscribed".to_string(),
        ),
    ];
    let router = recado_web::router(state.clone());
    println!("| page of 50 | median | p95 | max |\n|---|---|---|---|");
    for (label, path) in cases {
        let mut times = Vec::with_capacity(ROUNDS);
        for round in 0..ROUNDS + 5 {
            let req = Request::get(&path).header("cookie", format!("recado_session={token}"));
            let t = Instant::now();
            let res = router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
            let spent = t.elapsed();
            assert!(status.is_success(), "{path}: {status}");
            let html = String::from_utf8_lossy(&body);
            let counted = path.starts_with("/contacts/count") && html.parse::<u64>().is_ok_and(|n| n > 0);
            assert!(
                counted || html.contains("data-contact=\""),
                "{label}: the page lists contacts"
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
