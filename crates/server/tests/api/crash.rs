//! Nothing acknowledged is lost on a crash: the real binary is killed with
//! SIGKILL in the middle of a burst of contact writes, restarted on the same
//! database, and every write that got its 201 must still be there.

use crate::common::process::{free_port, start_node, temp_data_dir, wait_healthy};
use recado_store::testing::TestDatabase;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "rcd_crash_test_token_0123456789abcdef";

fn start(db: &TestDatabase, data_dir: &std::path::Path, port: u16) -> Child {
    start_node(&db.url, data_dir, port, TOKEN, &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_a_burst_of_contact_writes_loses_no_acknowledged_write() {
    let db = TestDatabase::new().await;
    let data_dir = temp_data_dir("recado-crash");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut server = start(&db, &data_dir, port);
    wait_healthy(&client, &base).await;

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, base, acknowledged) = (client.clone(), base.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let body = serde_json::json!({"properties": {"firstname": format!("w{w}-{i}"), "mobilephone": "+5511912345678"}});
                match client.post(format!("{base}/api/v1/contacts")).bearer_auth(TOKEN).json(&body).send().await {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        if let Some(id) = v["id"].as_str() {
                            acknowledged.lock().unwrap().push(id.to_string());
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    // Let the burst run, then kill the process without any chance to flush.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acknowledged.lock().unwrap().len() < 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().ok();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acknowledged.lock().unwrap().clone();
    assert!(acked.len() >= 200, "the burst acknowledged only {} writes", acked.len());

    let mut server = start(&db, &data_dir, port);
    wait_healthy(&client, &base).await;
    let mut missing = Vec::new();
    for id in &acked {
        let r = client
            .get(format!("{base}/api/v1/contacts/{id}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        if r.status().as_u16() != 200 {
            missing.push(id.clone());
        }
    }
    server.kill().ok();
    server.wait().ok();
    let _ = std::fs::remove_dir_all(&data_dir);
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes were lost: {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
}

async fn api(client: &reqwest::Client, base: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let r = client
        .post(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_a_workflow_run_loses_no_run_and_sends_each_message_once() {
    const CONTACTS: usize = 200;
    let db = TestDatabase::new().await;
    let data_dir = temp_data_dir("recado-crash-workflow");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut server = start(&db, &data_dir, port);
    wait_healthy(&client, &base).await;
    api(
        &client,
        &base,
        "/api/v1/channels",
        serde_json::json!({"kind": "sms_sandbox", "name": "SMS", "config": {"senders": ["Recado"]}}),
    )
    .await;
    let mut contacts = Vec::new();
    for chunk in (0..CONTACTS).collect::<Vec<_>>().chunks(50) {
        let made = futures::future::join_all(chunk.iter().map(|i| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let body = serde_json::json!({"properties": {"firstname": format!("C{i}"), "mobilephone": format!("+551191{i:07}")}});
                let c = api(&client, &base, "/api/v1/contacts", body).await;
                let id = c["id"].as_str().unwrap().to_string();
                let r = client
                    .put(format!("{base}/api/v1/contacts/{id}/subscriptions/sms"))
                    .bearer_auth(TOKEN)
                    .json(&serde_json::json!({"status": "subscribed", "legal_basis": "consent", "explanation": "test"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 200);
                id
            }
        }))
        .await;
        contacts.extend(made);
    }
    let wf = api(
        &client,
        &base,
        "/api/v1/workflows",
        serde_json::json!({"name": "Crash", "definition": {
            "triggers": [{"type": "manual"}], "start": "send", "nodes": {
                "send": {"type": "send_sms", "from": "Recado", "text": "Oi {{contact.firstname}}", "next": "wait"},
                "wait": {"type": "wait_event", "of": "send", "events": ["SMS_DELIVERED", "SMS_NOT_DELIVERED"], "timeout": "PT5S",
                         "on": {"SMS_DELIVERED": "done", "SMS_NOT_DELIVERED": "done", "timeout": "done"}},
                "done": {"type": "end"}}}}),
    )
    .await;
    let id = wf["id"].as_str().unwrap().to_string();
    api(
        &client,
        &base,
        &format!("/api/v1/workflows/{id}/publish"),
        serde_json::json!({}),
    )
    .await;
    api(
        &client,
        &base,
        &format!("/api/v1/workflows/{id}/activate"),
        serde_json::json!({}),
    )
    .await;
    for chunk in contacts.chunks(100) {
        let r = api(
            &client,
            &base,
            &format!("/api/v1/workflows/{id}/enrolments"),
            serde_json::json!({"contact_ids": chunk}),
        )
        .await;
        assert_eq!(r["enrolled"].as_u64(), Some(chunk.len() as u64));
    }
    // Kill the hub while the engine is part way through the runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let perf: serde_json::Value = client
            .get(format!("{base}/api/v1/workflows/{id}/performance"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sent = perf["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["node_id"] == "send")
            .map(|n| n["successes"].as_i64().unwrap_or(0))
            .unwrap_or(0);
        if sent >= 20 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().ok();

    let mut server = start(&db, &data_dir, port);
    wait_healthy(&client, &base).await;
    // Leases of the killed node run out; every run then finishes. A send the
    // crash interrupted is `uncertain` and never repeated, so the sandbox
    // sends no receipt for it: its run ends by the wait's short timeout.
    let deadline = Instant::now() + Duration::from_secs(80);
    let completed = loop {
        let perf: serde_json::Value = client
            .get(format!("{base}/api/v1/workflows/{id}/performance"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let completed = perf["completed"].as_i64().unwrap_or(0);
        if completed as usize == CONTACTS || Instant::now() > deadline {
            break completed;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let mut per_contact = std::collections::HashMap::<String, usize>::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/messages?channel=sms&limit=500");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value = client
            .get(url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for m in page["items"].as_array().unwrap() {
            *per_contact
                .entry(m["contact_id"].as_str().unwrap_or_default().to_string())
                .or_default() += 1;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    server.kill().ok();
    server.wait().ok();
    let _ = std::fs::remove_dir_all(&data_dir);
    assert_eq!(completed as usize, CONTACTS, "every run finished after the restart");
    assert_eq!(per_contact.len(), CONTACTS, "every contact got its SMS");
    let twice: Vec<_> = per_contact.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "messages made more than once: {twice:?}");
}
