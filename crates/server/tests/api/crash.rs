//! Nothing acknowledged is lost on a crash: the real binary is killed with
//! SIGKILL in the middle of a burst of contact writes, restarted on the same
//! database, and every write that got its 201 must still be there.

use crate::common::process::{temp_data_dir, wait_healthy, HubBinary};
use crate::common::remote::Remote;
use recado_store::testing::TestDatabase;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "rcd_crash_test_token_0123456789abcdef";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_a_burst_of_contact_writes_loses_no_acknowledged_write() {
    let db = TestDatabase::new().await;
    let binary = HubBinary::new(&db, temp_data_dir("recado-crash"), TOKEN);
    let (data_dir, base) = (binary.data_dir.clone(), binary.base.clone());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut server = binary.start();
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

    let mut server = binary.start();
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

async fn node_successes(remote: &Remote, workflow: &str, node: &str) -> i64 {
    let perf = remote.get(&format!("/api/v1/workflows/{workflow}/performance")).await;
    perf["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node_id"] == node)
        .map(|n| n["successes"].as_i64().unwrap_or(0))
        .unwrap_or(0)
}

/// Starts the hub with a client patient enough for its slow restarts and
/// gives it an SMS sandbox channel: the set-up of the send crash tests.
async fn start_with_sms_channel(binary: &HubBinary) -> (reqwest::Client, std::process::Child, Remote) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let server = binary.start();
    wait_healthy(&client, &binary.base).await;
    let remote = binary.remote(&client);
    remote
        .post(
            "/api/v1/channels",
            serde_json::json!({"kind": "sms_sandbox", "name": "SMS", "config": {"senders": ["Recado"]}}),
        )
        .await;
    (client, server, remote)
}

/// 10,000 contacts enter a workflow from a segment; the hub is killed with
/// SIGKILL part way through the sends and restarted. Every run must finish,
/// each contact must have one SMS, and the sandbox provider's own record of
/// what it received (written before the hub learns the send went out) must
/// hold each message at most once — once for every message the hub counts as
/// sent; the only ones it lacks are the few the crash left `uncertain`, which
/// are never tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_a_ten_thousand_contact_workflow_run_sends_each_message_once() {
    const CONTACTS: usize = 10_000;
    let db = TestDatabase::new().await;
    let binary = HubBinary::new(&db, temp_data_dir("recado-crash-workflow"), TOKEN);
    let (data_dir, base) = (binary.data_dir.clone(), binary.base.clone());
    let (client, mut server, remote) = start_with_sms_channel(&binary).await;
    let began = Instant::now();
    let progress = |what: &str| eprintln!("{:>6.1} s  {what}", began.elapsed().as_secs_f64());
    remote.import_subscribed(CONTACTS).await;
    progress("imported and subscribed");
    let segment = remote
        .post(
            "/api/v1/segments",
            serde_json::json!({"name": "SMS", "filter": {"subscription": "sms", "op": "eq", "value": "subscribed"}}),
        )
        .await;
    let wf = remote.post(
        "/api/v1/workflows",
        serde_json::json!({"name": "Crash", "definition": {
            "triggers": [{"type": "segment", "segment_id": segment["id"]}], "start": "send", "nodes": {
                "send": {"type": "send_sms", "from": "Recado", "text": "Oi {{contact.firstname}}", "next": "wait"},
                "wait": {"type": "wait_event", "of": "send", "events": ["SMS_DELIVERED", "SMS_NOT_DELIVERED"], "timeout": "PT60S",
                         "on": {"SMS_DELIVERED": "done", "SMS_NOT_DELIVERED": "done", "timeout": "done"}},
                "done": {"type": "end"}}}}),
    )
    .await;
    let id = wf["id"].as_str().unwrap().to_string();
    remote
        .post(&format!("/api/v1/workflows/{id}/publish"), serde_json::json!({}))
        .await;
    remote
        .post(
            &format!("/api/v1/workflows/{id}/activate"),
            serde_json::json!({"enrol_existing": true}),
        )
        .await;
    // Kill the hub once the provider has received a tenth of the sends, so
    // the crash lands while sends are being submitted.
    let outbox_path = data_dir.join("sandbox").join("sms.jsonl");
    let received_lines = || {
        std::fs::read_to_string(&outbox_path)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    while received_lines() < CONTACTS / 10 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent_before = node_successes(&remote, &id, "send").await;
    let perf = remote.get(&format!("/api/v1/workflows/{id}/performance")).await;
    let ended_before = perf["completed"].as_i64().unwrap_or(0);
    server.kill().expect("SIGKILL");
    server.wait().ok();
    progress(&format!(
        "killed with {sent_before} sends made, {} received by the provider, {ended_before} runs ended",
        received_lines()
    ));
    assert!(
        ended_before < CONTACTS as i64,
        "the crash came after every run had ended"
    );
    assert!(
        received_lines() < CONTACTS,
        "the crash came after every send; nothing was tested"
    );

    let mut server = binary.start();
    wait_healthy(&client, &base).await;
    progress("restarted");
    // Leases of the killed node run out; every run then finishes. A send the
    // crash interrupted is `uncertain` and never repeated, so the sandbox
    // sends no receipt for it: its run ends by the wait's timeout.
    let deadline = Instant::now() + Duration::from_secs(300);
    let completed = loop {
        let perf = remote.get(&format!("/api/v1/workflows/{id}/performance")).await;
        let completed = perf["completed"].as_i64().unwrap_or(0);
        if completed as usize == CONTACTS || Instant::now() > deadline {
            break completed;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    progress(&format!("{completed} runs completed"));
    // Runs whose wait timed out may end before their send left the queue:
    // wait until no send is left queued.
    let messages = loop {
        let messages = remote.all_pages("/api/v1/messages?channel=sms").await;
        if messages.iter().all(|m| m["status"] != "queued") || Instant::now() > deadline {
            break messages;
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    };
    progress("no send left queued");
    server.kill().ok();
    server.wait().ok();
    let outbox = std::fs::read_to_string(data_dir.join("sandbox").join("sms.jsonl")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&data_dir);

    assert_eq!(completed as usize, CONTACTS, "every run finished after the restart");
    let mut per_contact = std::collections::HashMap::<&str, usize>::new();
    for m in &messages {
        *per_contact
            .entry(m["contact_id"].as_str().unwrap_or_default())
            .or_default() += 1;
    }
    assert_eq!(per_contact.len(), CONTACTS, "every contact has its SMS");
    let twice: Vec<_> = per_contact.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "messages made more than once: {twice:?}");

    let mut received = std::collections::HashMap::<String, usize>::new();
    for line in outbox.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("the sandbox writes whole lines");
        *received
            .entry(v["message_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let repeated: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "the provider received these more than once: {repeated:?}"
    );
    let mut unreceived = 0;
    for m in &messages {
        let status = m["status"].as_str().unwrap_or_default();
        if received.contains_key(m["id"].as_str().unwrap()) {
            continue;
        }
        assert_eq!(
            status, "uncertain",
            "message {} is {status} but never reached the provider",
            m["id"]
        );
        unreceived += 1;
    }
    progress(&format!(
        "{} received once by the provider, {unreceived} left uncertain",
        received.len()
    ));
    // At most what was marked attempted and not yet answered at the crash:
    // the batches the dispatcher loops had in hand (two of at most 256).
    assert!(unreceived <= 512, "{unreceived} sends left uncertain by one crash");
    assert_eq!(
        received.len() + unreceived,
        CONTACTS,
        "the provider received nothing the hub did not make"
    );
}

/// A send answered 202 is recorded and is submitted at most once, whatever
/// moment the process dies: 20,000 API sends through the batched send path
/// (group commit, batch claims, concurrent submissions), SIGKILL while the
/// sandbox provider is receiving them, restart. Every accepted send is
/// there and settled, none reached the provider twice, and the only ones
/// that did not reach it are `uncertain` (their attempt was under way).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_a_twenty_thousand_send_burst_loses_no_accepted_send_and_submits_none_twice() {
    const CONTACTS: usize = 1_000;
    const SENDS: usize = 20_000;
    let db = TestDatabase::new().await;
    let binary = HubBinary::new(&db, temp_data_dir("recado-crash-sends"), TOKEN);
    let (data_dir, base) = (binary.data_dir.clone(), binary.base.clone());
    let (client, mut server, remote) = start_with_sms_channel(&binary).await;
    let mut csv = String::from("firstname,mobilephone\n");
    let numbers: Vec<String> = (0..CONTACTS).map(|i| format!("+551192{i:07}")).collect();
    for n in &numbers {
        csv.push_str(&format!("Burst,{n}\n"));
    }
    let r = client
        .post(format!("{base}/api/v1/contacts/import"))
        .bearer_auth(TOKEN)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ids: Vec<String> = remote
        .all_pages("/api/v1/contacts")
        .await
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), CONTACTS);
    remote
        .post(
            "/api/v1/subscriptions/bulk",
            serde_json::json!({"contact_ids": ids, "channel": "sms", "status": "subscribed",
                           "legal_basis": "consent", "explanation": "signed up at the counter"}),
        )
        .await;
    let began = Instant::now();
    let progress = |what: &str| eprintln!("{:>6.1} s  {what}", began.elapsed().as_secs_f64());

    // 64 clients send until the hub dies; each keeps the ids it got a 202 for.
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let numbers = Arc::new(numbers);
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let (client, base, accepted, next, numbers) = (
                client.clone(),
                base.clone(),
                accepted.clone(),
                next.clone(),
                numbers.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= SENDS {
                        return;
                    }
                    let body = serde_json::json!({"channel": "sms", "to": numbers[i % CONTACTS],
                                                  "text": format!("Your code is {i:06}")});
                    let sent = client
                        .post(format!("{base}/api/v1/messages"))
                        .bearer_auth(TOKEN)
                        .json(&body)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().as_u16() == 202 => {
                            let m: serde_json::Value = r.json().await.unwrap();
                            accepted.lock().unwrap().push(m["id"].as_str().unwrap().to_string());
                        }
                        Ok(r) => panic!("a send was refused: {}", r.status()),
                        // The hub died: this client stops.
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    // Kill the hub while the provider is receiving, part way through.
    let outbox_path = data_dir.join("sandbox").join("sms.jsonl");
    let received_lines = || {
        std::fs::read_to_string(&outbox_path)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    while received_lines() < SENDS / 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().ok();
    for c in clients {
        c.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    progress(&format!(
        "killed with {} sends accepted, {} received by the provider",
        accepted.len(),
        received_lines()
    ));
    assert!(accepted.len() < SENDS, "the crash came after every send was accepted");

    let mut server = binary.start();
    wait_healthy(&client, &base).await;
    progress("restarted");
    // Leases of the killed node are released; every send settles.
    let deadline = Instant::now() + Duration::from_secs(300);
    let messages = loop {
        let messages = remote.all_pages("/api/v1/messages?channel=sms").await;
        let open = messages
            .iter()
            .filter(|m| m["status"] == "queued" || m["status"] == "sent")
            .count();
        if open == 0 || Instant::now() > deadline {
            break messages;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    progress("every send settled");
    server.kill().ok();
    server.wait().ok();
    let outbox = std::fs::read_to_string(&outbox_path).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&data_dir);

    let status: std::collections::HashMap<&str, &str> = messages
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["status"].as_str().unwrap()))
        .collect();
    let lost: Vec<_> = accepted.iter().filter(|id| !status.contains_key(id.as_str())).collect();
    assert!(lost.is_empty(), "accepted sends lost by the crash: {lost:?}");
    let mut received = std::collections::HashMap::<String, usize>::new();
    for line in outbox.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("the sandbox writes whole lines");
        *received
            .entry(v["message_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let repeated: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "the provider received these more than once: {repeated:?}"
    );
    let unknown: Vec<_> = received.keys().filter(|id| !status.contains_key(id.as_str())).collect();
    assert!(
        unknown.is_empty(),
        "the provider received sends the hub has no record of: {unknown:?}"
    );
    let mut uncertain = 0;
    for (id, s) in &status {
        if received.contains_key(*id) {
            assert!(
                ["delivered", "uncertain"].contains(s),
                "message {id} reached the provider but is {s}"
            );
        } else {
            assert_eq!(*s, "uncertain", "message {id} is {s} but never reached the provider");
            uncertain += 1;
        }
    }
    progress(&format!(
        "{} sends recorded, {} received once by the provider, {uncertain} uncertain and never sent",
        status.len(),
        received.len()
    ));
    // At most what was in flight at the crash: two dispatcher batches.
    assert!(uncertain <= 512, "{uncertain} sends left uncertain by one crash");
}
