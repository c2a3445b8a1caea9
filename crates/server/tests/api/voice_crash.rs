//! A crash while calls ring: the real binary is killed with SIGKILL while
//! the sandbox voice network holds ringing calls, restarted on the same
//! database, and every call must end with a final event, none dialled twice
//! (the network's own record, written before the hub hears the call was
//! taken, holds each attempt at most once).

use crate::common::process::{temp_data_dir, wait_healthy, HubBinary};
use recado_store::testing::TestDatabase;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "rcd_voice_crash_token_0123456789abcdef";
const CALLS: usize = 300;
/// Final statuses of a call's message.
const FINAL: [&str; 4] = ["delivered", "not_delivered", "not_sent", "failed"];

fn dial_log(data_dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(data_dir.join("sandbox").join("calls.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a whole JSON line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_while_calls_ring_ends_every_call_and_dials_none_twice() {
    let db = TestDatabase::new().await;
    let binary = HubBinary::new(&db, temp_data_dir("recado-voice-crash"), TOKEN);
    let (data_dir, base) = (binary.data_dir.clone(), binary.base.clone());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut server = binary.start();
    wait_healthy(&client, &base).await;
    let remote = binary.remote(&client);
    // Each phone rings for a second and a half: most calls are ringing when
    // the hub dies.
    remote
        .post(
            "/api/v1/channels",
            serde_json::json!({"kind": "voice_sandbox", "name": "Calls", "config": {"ring_ms": 1500}}),
        )
        .await;
    // Phones that listen, are busy, or never answer.
    let endings = ["42", "01", "02"];
    let mut ids = Vec::new();
    for i in 0..CALLS {
        let phone = format!("+5511930{i:04}{}", endings[i % endings.len()]);
        let c = remote
            .post(
                "/api/v1/contacts",
                serde_json::json!({"properties": {"mobilephone": phone}}),
            )
            .await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    remote
        .post(
            "/api/v1/subscriptions/bulk",
            serde_json::json!({"contact_ids": ids, "channel": "voice", "status": "subscribed",
                           "legal_basis": "consent", "explanation": "asked to be called"}),
        )
        .await;

    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let ids = Arc::new(ids);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders: Vec<_> = (0..16)
        .map(|_| {
            let (client, base, accepted, ids, next) = (
                client.clone(),
                base.clone(),
                accepted.clone(),
                ids.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= CALLS {
                        return;
                    }
                    let body = serde_json::json!({"channel": "voice", "contact_id": ids[i],
                        "voice": {"narration": {"kind": "tts", "language": "en", "text": "Your parcel has arrived."}}});
                    match client
                        .post(format!("{base}/api/v1/messages"))
                        .bearer_auth(TOKEN)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().as_u16() == 202 => {
                            let m: serde_json::Value = r.json().await.unwrap();
                            accepted.lock().unwrap().push(m["id"].as_str().unwrap().to_string());
                        }
                        Ok(r) => panic!("a call was refused: {}", r.status()),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    // Kill the hub once the network holds a good number of calls.
    let deadline = Instant::now() + Duration::from_secs(60);
    while dial_log(&data_dir).len() < CALLS / 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().ok();
    for s in senders {
        s.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() >= CALLS / 3,
        "only {} calls were accepted",
        accepted.len()
    );

    let mut server = binary.start();
    wait_healthy(&client, &base).await;
    // Every accepted call reaches a final status (reports queued before the
    // crash run after it; an interrupted dial is reconciled within minutes).
    let deadline = Instant::now() + Duration::from_secs(200);
    let mut open: Vec<String> = accepted.clone();
    while !open.is_empty() && Instant::now() < deadline {
        let mut still = Vec::new();
        for id in &open {
            let r = client
                .get(format!("{base}/api/v1/messages/{id}"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap();
            let m: serde_json::Value = r.json().await.unwrap();
            if !FINAL.contains(&m["status"].as_str().unwrap_or("")) {
                still.push(id.clone());
            }
        }
        open = still;
        if !open.is_empty() {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    server.kill().ok();
    server.wait().ok();
    let log = dial_log(&data_dir);
    let _ = std::fs::remove_dir_all(&data_dir);
    assert!(
        open.is_empty(),
        "{} calls never ended: {:?}",
        open.len(),
        &open[..open.len().min(5)]
    );
    let mut dialled: HashMap<(String, i64), usize> = HashMap::new();
    for line in &log {
        let key = (
            line["message_id"].as_str().unwrap().to_string(),
            line["attempt"].as_i64().unwrap(),
        );
        *dialled.entry(key).or_default() += 1;
    }
    let twice: Vec<_> = dialled.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "dialled twice: {twice:?}");
}
