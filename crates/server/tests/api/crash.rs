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
