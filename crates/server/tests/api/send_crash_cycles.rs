//! Sends to providers survive crashes: the real binary, with an
//! `sms_http` channel on a Twilio-style stand-in and a WhatsApp channel on a
//! Cloud API stand-in (both in this process, so they outlive the hub and
//! keep posting their callbacks), is killed with SIGKILL ten times in the
//! middle of a burst of 300 sends and restarted on the same database and
//! data directory. Clients retry a send whose answer the crash swallowed
//! with the same `Idempotency-Key`, as an integrator would.

use crate::common::cloud_api::CloudApi;
use crate::common::process::{stop_gracefully, temp_data_dir, wait_healthy, HubBinary};
use crate::common::remote::Remote;
use crate::common::twilio::Twilio;
use recado_core::clock::{Clock, ManualClock};
use recado_store::testing::TestDatabase;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "rcd_send_crash_token_0123456789abcdef";
const AUTH_TOKEN: &str = "twilio-auth-token";
const APP_SECRET: &str = "crash-app-secret";
const PHONE_ID: &str = "1065000001";
const SENDER: &str = "+15017122661";
const CYCLES: usize = 10;
const BURST: usize = 300;
const CONTACTS: usize = 300;
/// Clients sending at once.
const CLIENTS: usize = 16;

/// One send of a burst: its idempotency key (also written in its text) and body.
#[derive(Clone)]
struct Send {
    key: String,
    body: Value,
}

/// The sends of cycle `cycle`: SMS and WhatsApp templates in turn.
fn burst(cycle: usize, contacts: &[String]) -> Vec<Send> {
    (0..BURST)
        .map(|i| {
            let key = format!("c{cycle:02}-{i:03}");
            let contact = &contacts[(cycle * BURST + i) % contacts.len()];
            let body = if i % 2 == 0 {
                json!({"channel": "sms", "contact_id": contact, "text": format!("Seu código é {key}")})
            } else {
                json!({"channel": "whatsapp", "contact_id": contact, "template": {"name": "order_update", "language": "pt_BR",
                       "parameters": {"body": ["Ana", key]}}})
            };
            Send { key, body }
        })
        .collect()
}

/// The send key (`cNN-NNN`) written in a text.
fn key_in(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(6)).find_map(|i| {
        let w = &b[i..i + 7];
        let shape = w[0] == b'c'
            && w[1].is_ascii_digit()
            && w[2].is_ascii_digit()
            && w[3] == b'-'
            && w[4..].iter().all(u8::is_ascii_digit);
        shape.then(|| text[i..i + 7].to_string())
    })
}

/// What the clients were told.
#[derive(Default)]
struct Answers {
    /// Key → the message id of its 202.
    accepted: HashMap<String, String>,
    /// Keys answered 202 twice with different message ids.
    split: Vec<(String, String, String)>,
    /// Keys whose request got no answer: the hub died.
    unanswered: Vec<Send>,
    /// Keys answered 409 `idempotency_key_in_use` (and not accepted since):
    /// a key a crash left held, which the restarted hub should have freed.
    in_use: HashSet<String>,
    /// Sends to try again (answered `in use`).
    retry: Vec<Send>,
    /// Anything else: key, status, body.
    refused: Vec<(String, u16, String)>,
}

/// Posts `sends` with `CLIENTS` clients until they are done or the hub dies.
fn start_clients(
    client: &reqwest::Client,
    base: &str,
    sends: Vec<Send>,
    answers: &Arc<Mutex<Answers>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let queue = Arc::new(Mutex::new(VecDeque::from(sends)));
    (0..CLIENTS)
        .map(|_| {
            let (client, base, queue, answers) = (client.clone(), base.to_string(), queue.clone(), answers.clone());
            tokio::spawn(async move {
                loop {
                    let Some(send) = queue.lock().unwrap().pop_front() else {
                        return;
                    };
                    let posted = client
                        .post(format!("{base}/api/v1/messages"))
                        .bearer_auth(TOKEN)
                        .header("idempotency-key", &send.key)
                        .json(&send.body)
                        .send()
                        .await;
                    let answer = match posted {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            r.text().await.map(|text| (status, text))
                        }
                        Err(e) => Err(e),
                    };
                    let mut answers = answers.lock().unwrap();
                    match answer {
                        Ok((202, text)) => {
                            let id = serde_json::from_str::<Value>(&text).unwrap()["id"]
                                .as_str()
                                .unwrap()
                                .to_string();
                            answers.in_use.remove(&send.key);
                            if let Some(earlier) = answers.accepted.insert(send.key.clone(), id.clone()) {
                                if earlier != id {
                                    answers.split.push((send.key.clone(), earlier, id));
                                }
                            }
                        }
                        Ok((409, text)) if text.contains("idempotency_key_in_use") => {
                            answers.in_use.insert(send.key.clone());
                            answers.retry.push(send);
                        }
                        Ok((status, text)) => answers.refused.push((send.key.clone(), status, text)),
                        // The hub is gone: this client stops.
                        Err(_) => {
                            answers.unanswered.push(send);
                            return;
                        }
                    }
                }
            })
        })
        .collect()
}

/// What the reconciliation of uncertain sends did.
struct Reconciled {
    sms: recado_app::sms::reconcile::Reconciled,
    whatsapp_failed: usize,
}

/// Runs the hub's reconciliation of uncertain sends on the crashed
/// database as a node would once the grace of a send no provider knows
/// (ten minutes after its attempt) has passed: an in-process hub whose
/// clock is eleven minutes ahead, stopped afterwards.
async fn reconcile_after_the_grace(db: &TestDatabase, data_dir: &std::path::Path) -> Reconciled {
    let later = chrono::Utc::now() + chrono::Duration::minutes(11);
    let settings = recado::config::Settings::for_tests(&db.url, data_dir.to_path_buf());
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(later));
    let app = recado::Application::build_with_clock(settings, clock)
        .await
        .expect("a hub on the crashed database");
    let state = app.state.clone();
    let stop = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    let done = Reconciled {
        sms: recado_app::sms::reconcile::run(&state).await.expect("reconciled"),
        whatsapp_failed: recado_app::whatsapp::reconcile::run(&state).await.expect("reconciled"),
    };
    let registry = recado_app::workers::Registry::builtin();
    while recado_app::workers::run_once(&state, &registry, "after-the-grace")
        .await
        .expect("queue reachable")
    {}
    stop.send(true).ok();
    server.await.ok();
    done
}

/// Ten SIGKILLs, each in the middle of a burst of 300 sends (SMS through a
/// Twilio-style provider, WhatsApp templates through the Cloud API), each
/// followed by a restart on the same database: no provider receives a
/// message twice (by the hub's own message id, and by the send's key across
/// the clients' idempotent retries), no key makes two messages nor stays
/// `in use` after the restart, and once the
/// providers' callbacks are in and the hub has reconciled what it could not
/// know, every send is settled — `delivered` when the provider took it,
/// `failed` when it never did — none `queued`, none `uncertain`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_kill_9s_mid_burst_leave_no_send_duplicated_queued_or_uncertain_on_sms_http_and_whatsapp() {
    let db = TestDatabase::new().await;
    let binary = HubBinary::new(&db, temp_data_dir("recado-send-crash"), TOKEN).with_own_public_url();
    let (data_dir, base) = (binary.data_dir.clone(), binary.base.clone());
    let began = Instant::now();
    let progress = |what: &str| eprintln!("{:>6.1} s  {what}", began.elapsed().as_secs_f64());
    let twilio = Twilio::start(AUTH_TOKEN).await;
    twilio.post_callbacks();
    let cloud = CloudApi::start().await;
    cloud.set_templates(vec![
        json!({"id": "1", "name": "order_update", "language": "pt_BR", "category": "UTILITY", "status": "APPROVED",
                                    "components": [{"type": "BODY", "text": "Olá {{1}}, pedido {{2}} enviado."}]}),
    ]);

    let mut hub = binary.start();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    wait_healthy(&client, &base).await;
    let remote = Remote::new(&base, TOKEN);
    remote
        .post(
            "/api/v1/channels",
            json!({"kind": "sms_http", "name": "Provider", "config": twilio.channel_config(SENDER)}),
        )
        .await;
    let wa = remote
        .post("/api/v1/channels", json!({"kind": "whatsapp_cloud", "name": "Main number", "config": {
            "waba_id": "WABA1", "phone_numbers": [{"phone_number_id": PHONE_ID, "display_phone_number": "+15550001111"}],
            "access_token": "EAAG-token", "app_secret": APP_SECRET, "verify_token": "verify-me",
            "graph_base_url": cloud.base_url, "graph_version": "v23.0", "tier": "unlimited"}}))
        .await;
    cloud.post_statuses_to(
        &format!("{base}/webhooks/whatsapp/{}", wa["id"].as_str().unwrap()),
        APP_SECRET,
    );
    remote.post("/api/v1/whatsapp/templates/sync", json!({})).await;
    let r = client
        .put(format!("{base}/api/v1/whatsapp/usage/settings"))
        .bearer_auth(TOKEN)
        .json(&json!({"monthly_limit": 1_000_000}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "usage settings: {}", r.status());
    let contacts = remote.import_subscribed(CONTACTS).await;
    let updated = remote
        .post(
            "/api/v1/subscriptions/bulk",
            json!({"contact_ids": contacts, "channel": "whatsapp", "status": "subscribed",
                                                   "legal_basis": "consent", "explanation": "opted in at the shop"}),
        )
        .await;
    assert_eq!(updated["updated"].as_u64(), Some(CONTACTS as u64), "{updated}");
    progress("channels and contacts ready");

    let answers = Arc::new(Mutex::new(Answers::default()));
    let taken = || twilio.taken_count() + cloud.taken_count();
    let mut cut_short = 0;
    for cycle in 0..CYCLES {
        // The sends the last crash left unanswered go again, with their keys.
        let mut sends = {
            let mut answers = answers.lock().unwrap();
            let mut again = std::mem::take(&mut answers.unanswered);
            again.append(&mut answers.retry);
            again
        };
        let retried = sends.len();
        sends.extend(burst(cycle, &contacts));
        let before = taken();
        let clients = start_clients(&client, &base, sends, &answers);
        // Kill once the providers have taken part of the burst: later in
        // each cycle, from about a seventh to over half of it.
        let target = before + 40 + cycle * 15;
        let deadline = Instant::now() + Duration::from_secs(60);
        while taken() < target && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        hub.kill().expect("SIGKILL");
        hub.wait().ok();
        let at_kill = taken() - before;
        for c in clients {
            c.await.unwrap();
        }
        let accepted = answers.lock().unwrap().accepted.len();
        if at_kill < BURST {
            cut_short += 1;
        }
        progress(&format!(
            "cycle {cycle}: {retried} retried, killed with {at_kill} sends taken by the providers this cycle; {accepted} accepted in all"
        ));
        hub = binary.start();
        wait_healthy(&client, &base).await;
    }
    assert!(
        cut_short >= CYCLES / 2,
        "only {cut_short} crashes came before the providers had the whole burst"
    );
    // The last crash's unanswered sends, once more.
    let last = {
        let mut answers = answers.lock().unwrap();
        let mut again = std::mem::take(&mut answers.unanswered);
        again.append(&mut answers.retry);
        again
    };
    for c in start_clients(&client, &base, last, &answers) {
        c.await.unwrap();
    }
    progress("restarted after the last crash");

    // The dead nodes' leases run out, their sends settle, the providers'
    // callbacks come in: every message a provider took ends `delivered`.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let took: HashSet<String> = twilio
            .taken()
            .iter()
            .filter_map(|t| t.message_id.clone())
            .chain(
                cloud
                    .taken()
                    .iter()
                    .filter_map(|r| r.body["biz_opaque_callback_data"].as_str().map(str::to_string)),
            )
            .collect();
        let mut messages = remote.all_pages("/api/v1/messages?channel=sms").await;
        messages.extend(remote.all_pages("/api/v1/messages?channel=whatsapp").await);
        let open = messages
            .iter()
            .filter(|m| {
                let status = m["status"].as_str().unwrap_or_default();
                let id = m["id"].as_str().unwrap_or_default();
                status == "queued" || status == "sent" || (took.contains(id) && status != "delivered")
            })
            .count();
        let callbacks = twilio.pending_callbacks() + cloud.pending_statuses();
        if (open == 0 && callbacks == 0) || Instant::now() > deadline {
            progress(&format!(
                "{open} sends still open, {callbacks} callbacks still being posted"
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let uncertain_before = remote.all_pages("/api/v1/messages?status=uncertain").await.len();
    stop_gracefully(&mut hub);
    let reconciled = reconcile_after_the_grace(&db, &data_dir).await;
    progress(&format!(
        "{uncertain_before} sends uncertain; ten minutes on, the hub settled them: SMS {:?}, WhatsApp {} failed",
        reconciled.sms, reconciled.whatsapp_failed
    ));

    let mut hub = binary.start();
    wait_healthy(&client, &base).await;
    let sms = remote.all_pages("/api/v1/messages?channel=sms").await;
    let whatsapp = remote.all_pages("/api/v1/messages?channel=whatsapp").await;
    hub.kill().ok();
    hub.wait().ok();
    let _ = std::fs::remove_dir_all(&data_dir);

    let answers = answers.lock().unwrap();
    assert!(
        answers.refused.is_empty(),
        "sends refused: {:?}",
        &answers.refused[..answers.refused.len().min(5)]
    );
    assert!(answers.split.is_empty(), "one key, two messages: {:?}", answers.split);
    assert!(answers.unanswered.is_empty(), "sends never answered");
    assert!(
        answers.in_use.is_empty(),
        "keys a crash left held, answered `in use` after the restart: {:?}",
        answers.in_use
    );

    // The hub: one message per key, the one its 202 named.
    let mut by_key: HashMap<String, Vec<&Value>> = HashMap::new();
    for m in sms.iter().chain(&whatsapp) {
        let key =
            key_in(m["text"].as_str().unwrap_or_default()).unwrap_or_else(|| panic!("a message no client sent: {m}"));
        by_key.entry(key).or_default().push(m);
    }
    let doubled: Vec<_> = by_key.iter().filter(|(_, ms)| ms.len() > 1).map(|(k, _)| k).collect();
    assert!(doubled.is_empty(), "keys that made more than one message: {doubled:?}");
    for (key, id) in &answers.accepted {
        let found = by_key.get(key).map(|ms| ms[0]["id"].as_str().unwrap_or_default());
        assert_eq!(found, Some(id.as_str()), "the message of key {key}");
    }

    // The providers: each message and each key at most once.
    let mut sms_by_id: HashMap<String, usize> = HashMap::new();
    let mut sms_by_key: HashMap<String, usize> = HashMap::new();
    for t in twilio.taken() {
        *sms_by_id
            .entry(t.message_id.clone().expect("the callback URL names the message"))
            .or_default() += 1;
        *sms_by_key
            .entry(key_in(&t.body).expect("a key in the text"))
            .or_default() += 1;
    }
    let mut wa_by_id: HashMap<String, usize> = HashMap::new();
    let mut wa_by_key: HashMap<String, usize> = HashMap::new();
    for r in cloud.taken() {
        let id = r.body["biz_opaque_callback_data"]
            .as_str()
            .expect("the hub's id is echoed");
        *wa_by_id.entry(id.to_string()).or_default() += 1;
        *wa_by_key
            .entry(key_in(&r.body.to_string()).expect("a key in the template"))
            .or_default() += 1;
    }
    for (what, counts) in [
        ("SMS message", &sms_by_id),
        ("SMS key", &sms_by_key),
        ("WhatsApp message", &wa_by_id),
        ("WhatsApp key", &wa_by_key),
    ] {
        let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "{what}s a provider received more than once: {twice:?}"
        );
    }

    // Every message settled: delivered when a provider took it, failed when none did.
    let mut statuses: HashMap<String, usize> = HashMap::new();
    let mut wrong = Vec::new();
    for (m, took) in sms
        .iter()
        .map(|m| (m, &sms_by_id))
        .chain(whatsapp.iter().map(|m| (m, &wa_by_id)))
    {
        let (id, status) = (m["id"].as_str().unwrap(), m["status"].as_str().unwrap());
        *statuses
            .entry(format!("{} {status}", m["channel"].as_str().unwrap_or_default()))
            .or_default() += 1;
        let expected = if took.contains_key(id) { "delivered" } else { "failed" };
        if status != expected {
            wrong.push(format!("{id} is {status}, {expected} expected ({})", m["error"]));
        }
    }
    let recorded: HashSet<&str> = sms.iter().chain(&whatsapp).filter_map(|m| m["id"].as_str()).collect();
    let unknown: Vec<_> = sms_by_id
        .keys()
        .chain(wa_by_id.keys())
        .filter(|id| !recorded.contains(id.as_str()))
        .collect();
    progress(&format!(
        "{} keys accepted, {} answered `in use` after a crash; {} messages: {statuses:?}",
        answers.accepted.len(),
        answers.in_use.len(),
        sms.len() + whatsapp.len()
    ));
    assert!(
        unknown.is_empty(),
        "providers received messages the hub has no record of: {unknown:?}"
    );
    assert!(
        wrong.is_empty(),
        "{} sends not settled as they should be: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    assert_eq!(twilio.abandoned_callbacks(), 0, "SMS callbacks the hub never took");
}
