//! Dispatch throughput of the HTTP SMS provider client against a local
//! endpoint that answers like the Messages API (201 with a SID).
//!
//! HTTP_BENCH_MESSAGES=20000 HTTP_BENCH_CONCURRENCY=64 cargo bench -p recado-channels --bench http_dispatch

use recado_channels::sms::http::{HttpSmsClient, HttpSmsConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A minimal keep-alive HTTP/1.1 endpoint: reads a request (headers and
/// Content-Length body) and answers 201 with a SID, so the measured cost is
/// the client's.
async fn endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                let mut chunk = [0u8; 4096];
                let mut n = 0u64;
                loop {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                        .unwrap_or(0);
                    while buf.len() < end + 4 + length {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    }
                    buf.drain(..end + 4 + length);
                    n += 1;
                    let body = format!("{{\"sid\":\"SM{n:032}\",\"status\":\"queued\"}}");
                    let response = format!(
                        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::main]
async fn main() {
    let messages: usize = std::env::var("HTTP_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let concurrency: usize = std::env::var("HTTP_BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let base = endpoint().await;
    let mut config = HttpSmsConfig::new("AC0123456789abcdef0123456789abcdef", "token");
    config.base_url = base;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let client = Arc::new(HttpSmsClient::new(config, http));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next) = (client.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            while next.fetch_add(1, Ordering::Relaxed) < messages {
                if client
                    .send(
                        "+15017122661",
                        "+5511912345678",
                        "Seu pedido 4521 saiu para entrega.",
                        "http://127.0.0.1/cb",
                    )
                    .await
                    .is_ok()
                {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{ok} of {messages} messages accepted in {elapsed:.2} s = {:.0} messages/s ({concurrency} concurrent requests)",
        ok as f64 / elapsed
    );
}
