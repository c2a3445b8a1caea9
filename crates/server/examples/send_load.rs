//! Load generator for the send path: single-part SMS through a gateway's
//! HTTP API, measured at the API (accepted/s, latency) and end to end (until
//! the provider side has seen every message).
//!
//! Two gateways can be measured with the same clients and the same SMSC, so
//! their figures compare as a ratio:
//!
//! - `recado`: `POST /api/v1/messages` with a bearer token. Before the clock
//!   starts it connects a channel (`--smsc-port` for `sms_smpp`, otherwise
//!   `sms_sandbox`), imports `--contacts` contacts and subscribes them to SMS.
//!   Sends go `to` those numbers, one per contact, round robin.
//! - `jasmin`: Jasmin's HTTP API (`POST /send` with `username`, `password`,
//!   `to`, `content`), already configured with a route to the same SMSC.
//!
//! End to end: with `--smsc-control` (the test SMSC's control URL), the time
//! until its `submits` counter has grown by `--requests`; for the sandbox,
//! until the hub's `recado_message_status_total{channel="sms",status="delivered"}`
//! has grown by that much.
//!
//! cargo run --release -p recado --example send_load -- recado \
//!     --url http://127.0.0.1:8080 --token "$TOKEN" --smsc-port 2775 \
//!     --smsc-control http://127.0.0.1:2776 --requests 20000 --concurrency 64
//! cargo run --release -p recado --example send_load -- jasmin \
//!     --url http://127.0.0.1:1401 --username bench --password bench \
//!     --smsc-control http://127.0.0.1:2776 --requests 20000 --concurrency 64

use futures::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq)]
enum Gateway {
    Recado,
    Jasmin,
}

struct Args {
    gateway: Gateway,
    url: String,
    token: String,
    username: String,
    password: String,
    requests: usize,
    concurrency: usize,
    contacts: Option<usize>,
    smsc_port: Option<u16>,
    smsc_control: Option<String>,
    window: u32,
    first_number: u64,
    text: String,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let gateway = match it.next().as_deref() {
        Some("recado") => Gateway::Recado,
        Some("jasmin") => Gateway::Jasmin,
        other => panic!("first argument: recado or jasmin (got {other:?})"),
    };
    let mut a = Args {
        gateway,
        url: "http://127.0.0.1:8080".into(),
        token: String::new(),
        username: "bench".into(),
        password: "bench".into(),
        requests: 20_000,
        concurrency: 64,
        contacts: None,
        smsc_port: None,
        smsc_control: None,
        window: 64,
        first_number: 5_511_910_000_000,
        text: "Your code is 482913. It expires in 10 minutes.".into(),
    };
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--url" => a.url = value,
            "--token" => a.token = value,
            "--username" => a.username = value,
            "--password" => a.password = value,
            "--requests" => a.requests = value.parse().expect("--requests N"),
            "--concurrency" => a.concurrency = value.parse().expect("--concurrency N"),
            "--contacts" => a.contacts = Some(value.parse().expect("--contacts N")),
            "--smsc-port" => a.smsc_port = Some(value.parse().expect("--smsc-port PORT")),
            "--smsc-control" => a.smsc_control = Some(value.trim_end_matches('/').to_string()),
            "--window" => a.window = value.parse().expect("--window N"),
            "--first-number" => a.first_number = value.parse().expect("--first-number DIGITS"),
            "--text" => a.text = value,
            other => panic!("unknown flag {other}"),
        }
    }
    if a.gateway == Gateway::Recado {
        assert!(!a.token.is_empty(), "--token is required (an admin API token)");
    }
    a
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn post_json(client: &reqwest::Client, args: &Args, path: &str, body: serde_json::Value) -> serde_json::Value {
    let r = client
        .post(format!("{}{path}", args.url))
        .bearer_auth(&args.token)
        .json(&body)
        .send()
        .await
        .expect("hub reachable");
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// Connects the channel and makes `contacts` subscribed contacts with
/// consecutive numbers; returns their numbers.
async fn setup_recado(client: &reqwest::Client, args: &Args, contacts: usize) -> Vec<String> {
    let config = match args.smsc_port {
        Some(port) => {
            serde_json::json!({"kind": "sms_smpp", "name": format!("SMSC {}", std::process::id()), "config": {
            "host": "127.0.0.1", "port": port, "system_id": "recado", "password": "secret",
            "senders": ["Recado"], "window": args.window}})
        }
        None => serde_json::json!({"kind": "sms_sandbox", "name": format!("Sandbox {}", std::process::id()),
            "config": {"senders": ["Recado"]}}),
    };
    post_json(client, args, "/api/v1/channels", config).await;
    let numbers: Vec<String> = (0..contacts as u64)
        .map(|i| format!("+{}", args.first_number + i))
        .collect();
    let began = Instant::now();
    let imports = numbers.chunks(1000).map(|chunk| {
        let mut csv = String::from("firstname,mobilephone\n");
        for n in chunk {
            csv.push_str(&format!("Load,{n}\n"));
        }
        let client = client.clone();
        let url = format!("{}/api/v1/contacts/import", args.url);
        let token = args.token.clone();
        async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await
                .expect("hub reachable");
            assert!(r.status().is_success(), "import: {}", r.status());
        }
    });
    futures::stream::iter(imports)
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await;
    // The ids of the numbers just imported, in pages.
    let mut ids = Vec::with_capacity(contacts);
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/api/v1/contacts?limit=500", args.url);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value = client
            .get(url)
            .bearer_auth(&args.token)
            .send()
            .await
            .expect("hub reachable")
            .json()
            .await
            .unwrap();
        for c in page["items"].as_array().expect("a contact list") {
            ids.push(c["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let bulks = ids.chunks(1000).map(|chunk| {
        let body = serde_json::json!({"contact_ids": chunk, "channel": "sms", "status": "subscribed",
            "legal_basis": "consent", "explanation": "load test"});
        async move { post_json(client, args, "/api/v1/subscriptions/bulk", body).await }
    });
    futures::stream::iter(bulks)
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await;
    eprintln!(
        "setup: {} contacts imported and subscribed in {:.1} s",
        ids.len(),
        began.elapsed().as_secs_f64()
    );
    numbers
}

/// What counts as "arrived at the provider": the SMSC's submit counter, or
/// the hub's count of delivered SMS (sandbox).
async fn arrived(client: &reqwest::Client, args: &Args) -> u64 {
    match &args.smsc_control {
        Some(control) => {
            let stats: serde_json::Value = client
                .get(format!("{control}/stats"))
                .send()
                .await
                .expect("SMSC control reachable")
                .json()
                .await
                .unwrap();
            stats["submits"].as_u64().unwrap_or(0)
        }
        None => {
            let text = client
                .get(format!("{}/metrics", args.url))
                .bearer_auth(&args.token)
                .send()
                .await
                .expect("hub reachable")
                .text()
                .await
                .unwrap_or_default();
            text.lines()
                .filter(|l| {
                    l.starts_with("recado_message_status_total{")
                        && l.contains("channel=\"sms\"")
                        && l.contains("status=\"delivered\"")
                })
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>() as u64
        }
    }
}

#[tokio::main]
async fn main() {
    let args = Arc::new(args());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(256))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let numbers: Arc<Vec<String>> = Arc::new(match args.gateway {
        Gateway::Recado => setup_recado(&client, &args, args.contacts.unwrap_or(args.requests)).await,
        Gateway::Jasmin => (0..args.contacts.unwrap_or(args.requests) as u64)
            .map(|i| format!("{}", args.first_number + i))
            .collect(),
    });
    let before = arrived(&client, &args).await;
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    // End to end: polled until the provider side has seen every message.
    let watcher = {
        let (client, args) = (client.clone(), args.clone());
        tokio::spawn(async move {
            let target = before + args.requests as u64;
            loop {
                let now = arrived(&client, &args).await;
                if now >= target {
                    return (started.elapsed(), now - before);
                }
                if started.elapsed() > Duration::from_secs(1800) {
                    return (started.elapsed(), now - before);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, args, numbers, next) = (client.clone(), args.clone(), numbers.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= args.requests {
                    break;
                }
                let to = &numbers[i % numbers.len()];
                let sent_at = Instant::now();
                let request = match args.gateway {
                    Gateway::Recado => client
                        .post(format!("{}/api/v1/messages", args.url))
                        .bearer_auth(&args.token)
                        .json(&serde_json::json!({"channel": "sms", "to": to, "text": args.text})),
                    Gateway::Jasmin => client.post(format!("{}/send", args.url)).form(&[
                        ("username", args.username.as_str()),
                        ("password", args.password.as_str()),
                        ("to", to.as_str()),
                        ("content", args.text.as_str()),
                    ]),
                };
                let ok = match request.send().await {
                    Ok(r) if r.status().is_success() => true,
                    Ok(r) => {
                        if failures < 3 {
                            let status = r.status();
                            eprintln!("refused: {status} {}", r.text().await.unwrap_or_default());
                        }
                        false
                    }
                    Err(e) => {
                        if failures < 3 {
                            eprintln!("failed: {e}");
                        }
                        false
                    }
                };
                if ok {
                    latencies.push(sent_at.elapsed());
                } else {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::with_capacity(args.requests);
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await.unwrap();
        latencies.extend(l);
        failures += f;
    }
    let accept_time = started.elapsed();
    latencies.sort();
    println!(
        "{} accepted in {:.2} s = {:.0}/s ({} refused or failed); latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        accept_time.as_secs_f64(),
        latencies.len() as f64 / accept_time.as_secs_f64(),
        failures,
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    let (e2e, seen) = watcher.await.unwrap();
    let what = if args.smsc_control.is_some() {
        "submitted at the SMSC"
    } else {
        "delivered (sandbox)"
    };
    println!(
        "{seen} {what} in {:.2} s = {:.0} msg/s end to end",
        e2e.as_secs_f64(),
        seen as f64 / e2e.as_secs_f64()
    );
}
