//! Voice calls through a `voice_asterisk` channel, end to end: the real hub
//! against the voice rig's real Asterisk (ARI) and its SIPp phones
//! (`scripts/install-voice-rig`, `scripts/voice-rig start`; `scripts/test`
//! starts it). The dial string picks the phone: `PJSIP/{number}@listen`
//! answers and listens, `@answer-dtmf` presses 1 two seconds after
//! answering, `@busy` is busy, `@no-answer` rings until the hub gives up.
//!
//! The rig is found from `RECADO_VOICE_RIG_ARI_URL`, `…_ARI_USER`,
//! `…_ARI_PASSWORD`, else `target/voice-rig/rig.env`, else the rig's
//! defaults. Without a rig the tests print SKIPPED — or fail with `CI=true`.
//!
//! Each hub listens on a port of its own and tells Asterisk to fetch the
//! narrations from it (its public URL); its channel names an ARI
//! application of its own (a second connection for one application name
//! takes it over). The test hub's clock is driven in real time, so timers
//! and deferred jobs run as they would in production.

use crate::common::{spawn_app_with, TestApp};
use crate::voice_calls::voice_timeline;
use recado_channels::voice::asterisk::{AriClient, AsteriskConfig};
use recado_core::clock::ManualClock;
use recado_core::jobs::Task;
use recado_store::calls::CallRecord;
use recado_store::jobs::NewJob;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest a call of these tests takes: the no-answer phone rings for
/// the hub's ring time (30 s) before Asterisk gives up.
const CALL_TIMEOUT: Duration = Duration::from_secs(45);

// ---------------------------------------------------------------- the rig

#[derive(Clone)]
struct Rig {
    ari_url: String,
    user: String,
    password: String,
    /// Unique to the test: its hub's application names start with it.
    app: String,
}

fn rig_setting(name: &str, default: &str) -> String {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/voice-rig/rig.env");
    let from_file = std::fs::read_to_string(file).unwrap_or_default();
    let key = format!("RECADO_VOICE_RIG_{name}");
    std::env::var(&key).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
        from_file
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| default.to_string())
    })
}

/// The rig, or `None` (skip) when it is not running; with `CI=true` a
/// missing rig fails the test.
async fn rig(test: &str) -> Option<Rig> {
    let rig = Rig {
        ari_url: rig_setting("ARI_URL", "http://127.0.0.1:8088/ari"),
        user: rig_setting("ARI_USER", "recado"),
        password: rig_setting("ARI_PASSWORD", "recado-secret"),
        app: format!("{}-{test}-{:08x}", rig_setting("APP", "recado"), rand::random::<u32>()),
    };
    let config = AsteriskConfig::new(&rig.ari_url, &rig.user, &rig.password, &rig.app);
    let client = AriClient::new(reqwest::Client::new(), config).with_timeout(Duration::from_secs(5));
    match client.info().await {
        Ok(_) => Some(rig),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "the voice rig is required when CI=true, but ARI at {} did not answer: {e}. \
             Install and start it: scripts/install-voice-rig && scripts/voice-rig start",
            rig.ari_url
        ),
        Err(e) => {
            eprintln!(
                "SKIPPED {test}: the voice rig is not running (ARI at {}: {e}); \
                 start it with `scripts/voice-rig start` (as root)",
                rig.ari_url
            );
            None
        }
    }
}

macro_rules! rig_or_skip {
    ($test:expr) => {
        match rig($test).await {
            Some(rig) => rig,
            None => return,
        }
    };
}

// ---------------------------------------------------------------- the hub

/// A free port on the loopback, for a hub whose public URL must name it.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The hub as `serve` runs it (`workers` job workers, and with them the
/// node's Asterisk connections), reachable by Asterisk at its public URL,
/// its clock moving in real time.
async fn hub(workers: usize) -> TestApp {
    let port = free_port();
    let app = spawn_app_with(|s| {
        s.listen = format!("127.0.0.1:{port}").parse().expect("an address");
        s.public_url = format!("http://127.0.0.1:{port}");
        s.workers = workers;
    })
    .await;
    run_clock(app.clock.clone());
    app
}

/// Moves the test hub's clock with real time.
fn run_clock(clock: ManualClock) {
    tokio::spawn(async move {
        let mut last = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = Instant::now();
            clock.advance(chrono::Duration::from_std(now - last).unwrap_or_default());
            last = now;
        }
    });
}

/// Waits until `check` gives a value, polling; panics after `timeout`.
async fn until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `voice_asterisk` channel on the rig dialling `dial_template`, once this
/// node holds its application; its id and workspace.
async fn channel(app: &TestApp, rig: &Rig, ari_url: &str, dial_template: &str) -> (String, String) {
    let id = app
        .channel(
            "voice_asterisk",
            "Asterisk",
            json!({"ari_url": ari_url, "ari_user": rig.user, "ari_password": rig.password,
                   "app": rig.app, "dial_template": dial_template,
                   "caller_ids": ["+34910000000"], "max_cps": 20, "max_concurrent": 20}),
        )
        .await;
    reconnected(app, &id).await;
    let records = app.app_state.store.channels_of_kind("voice_asterisk").await.unwrap();
    let workspace = records.into_iter().find(|r| r.id == id).unwrap().workspace_id;
    (id, workspace)
}

/// A contact subscribed to voice.
async fn contact(app: &TestApp, phone: &str) -> String {
    let id = app.contact(json!({"firstname": "Ana", "mobilephone": phone})).await;
    app.subscribe(&id, "voice").await;
    id
}

fn narration(text: &str) -> Value {
    json!({"kind": "tts", "language": "en", "text": text})
}

/// A voice message to `contact`; its message id.
async fn call(app: &TestApp, contact: &str, text: &str) -> String {
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "voice", "contact_id": contact, "voice": {"narration": narration(text)}}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn call_row(app: &TestApp, workspace: &str, message: &str) -> CallRecord {
    app.app_state
        .store
        .call(workspace, message)
        .await
        .unwrap()
        .expect("the call")
}

/// Waits until the call has ended; its row.
async fn ended(app: &TestApp, workspace: &str, message: &str) -> CallRecord {
    until("the end of the call", CALL_TIMEOUT, || async move {
        let row = call_row(app, workspace, message).await;
        (row.phase == "ended").then_some(row)
    })
    .await
}

fn kinds(items: &[Value]) -> Vec<&str> {
    items.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// How often Asterisk fetched a narration from the hub (`GET
/// /voice/media/{key}.wav` answered 200).
async fn narrations_fetched(app: &TestApp) -> f64 {
    let page = app.metrics_page().await;
    page.lines()
        .filter(|l| l.starts_with("recado_http_requests_total{"))
        .filter(|l| l.contains("route=\"/voice/media/{file}\"") && l.contains("status=\"200\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Words another test hardly speaks: Asterisk caches narrations by URL,
/// and a later hub may listen on the same port.
fn unique_words(what: &str) -> String {
    let letter = || char::from(b'a' + rand::random::<u8>() % 26);
    format!("{what}, {}{}.", letter(), letter())
}

// --------------------------------------------------- a proxy counting dials

/// A TCP proxy in front of ARI that passes everything through (requests and
/// the event WebSocket) and notes the channel ids the hub originates.
struct AriProxy {
    url: String,
    originated: Arc<Mutex<Vec<String>>>,
}

impl AriProxy {
    async fn start(ari_url: &str) -> AriProxy {
        let rest = ari_url.strip_prefix("http://").expect("the rig's ARI over http");
        let (target, path) = rest.split_once('/').map_or((rest, ""), |(t, p)| (t, p));
        let target = target.to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/{path}", listener.local_addr().unwrap());
        let originated = Arc::new(Mutex::new(Vec::new()));
        let noted = originated.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                    continue;
                };
                let noted = noted.clone();
                tokio::spawn(async move {
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                    });
                    let mut pending = String::new();
                    let mut buf = [0u8; 8192];
                    loop {
                        let n = match client_read.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        pending.push_str(&String::from_utf8_lossy(&buf[..n]));
                        while let Some(end) = pending.find("\r\n") {
                            let line: String = pending.drain(..end + 2).collect();
                            // A request line may follow the body of the
                            // previous request on the same line.
                            if let Some(rest) = line.find("POST /").map(|at| &line[at + 5..]) {
                                let path = rest.split([' ', '?']).next().unwrap_or("");
                                if let Some(id) = path.rsplit_once("/channels/").map(|(_, id)| id) {
                                    if !id.contains('/') {
                                        noted.lock().unwrap().push(id.to_string());
                                    }
                                }
                            }
                        }
                        // WebSocket frames are masked bytes with no lines:
                        // keep only the tail a request line may continue.
                        if pending.len() > 16_384 {
                            pending.clear();
                        }
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        AriProxy { url, originated }
    }

    fn originations_of(&self, channel_id: &str) -> usize {
        self.originated
            .lock()
            .unwrap()
            .iter()
            .filter(|id| *id == channel_id)
            .count()
    }
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn a_message_answered_is_sent_then_delivered_with_its_narration_fetched_from_the_hub() {
    let rig = rig_or_skip!("message");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@listen").await;
    let ana = contact(&app, "+34600000001").await;
    let fetched_before = narrations_fetched(&app).await;

    let id = call(&app, &ana, &unique_words("Hello Ana, your order is ready")).await;
    let row = ended(&app, &ws, &id).await;

    let timeline = voice_timeline(&app, &ana).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
    let m = app.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(m.body["status"], "delivered", "{}", m.body);
    assert_eq!(m.body["from"], "+34910000000");
    assert_eq!(row.provider_call_id.as_deref(), Some(format!("{id}-1").as_str()));
    assert!(row.answered_at.is_some() && row.ended_at.is_some());
    assert!(
        narrations_fetched(&app).await > fetched_before,
        "Asterisk fetched the narration from the hub's public URL"
    );
}

#[tokio::test]
async fn a_key_pressed_during_a_message_is_recorded() {
    let rig = rig_or_skip!("message-key");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@answer-dtmf").await;
    let ana = contact(&app, "+34600000002").await;
    // Longer than the phone's two seconds before its key.
    let text = unique_words("Hello Ana. This message is long enough for you to press a key while it plays");
    let id = call(&app, &ana, &text).await;
    ended(&app, &ws, &id).await;
    let timeline = voice_timeline(&app, &ana).await;
    assert_eq!(
        kinds(&timeline),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED", "VOICE_KEY_PRESSED"]
    );
    assert_eq!(timeline[3]["details"]["key"], "1");
}

#[tokio::test]
async fn a_busy_phone_is_not_delivered_busy() {
    let rig = rig_or_skip!("busy");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@busy").await;
    let bea = contact(&app, "+34600000003").await;
    let id = call(&app, &bea, "Hello").await;
    ended(&app, &ws, &id).await;
    let timeline = voice_timeline(&app, &bea).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_NOT_DELIVERED"]);
    assert_eq!(timeline[2]["details"]["reason"], "busy");
    let m = app.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(
        (m.body["status"].as_str(), m.body["error"]["code"].as_str()),
        (Some("not_delivered"), Some("busy"))
    );
}

#[tokio::test]
async fn a_phone_ringing_out_is_not_delivered_no_answer() {
    let rig = rig_or_skip!("no-answer");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@no-answer").await;
    let cai = contact(&app, "+34600000004").await;
    let id = call(&app, &cai, "Hello").await;
    ended(&app, &ws, &id).await;
    let timeline = voice_timeline(&app, &cai).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_NOT_DELIVERED"]);
    assert_eq!(timeline[2]["details"]["reason"], "no_answer");
}

/// Runs the hub's jobs until the call is in `phase` (a hub without
/// workers: the test drives the queue, the node's Asterisk connection
/// runs).
async fn drive_until(app: &TestApp, workspace: &str, message: &str, phase: &str) -> CallRecord {
    until(&format!("the call {phase}"), CALL_TIMEOUT, || async move {
        app.run_jobs().await;
        let row = call_row(app, workspace, message).await;
        (row.phase == phase).then_some(row)
    })
    .await
}

/// The node's Asterisk connections, started as `serve` starts them with
/// its workers, for a hub whose queue the test drives; stopped (and the
/// applications freed) by [`Connected::stop`].
struct Connected {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn connect_asterisk(app: &TestApp) -> Connected {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(recado_app::voice::asterisk::run(app.app_state.clone(), stopped));
    Connected { stop, task }
}

impl Connected {
    async fn stop(self) {
        let _ = self.stop.send(true);
        self.task.await.unwrap();
    }
}

/// Waits until this node holds the channel's application again.
async fn reconnected(app: &TestApp, channel: &str) {
    until(
        "the hub's connection to Asterisk",
        Duration::from_secs(15),
        || async move { app.app_state.asterisk.is_connected(channel).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn an_attempt_is_originated_once_however_often_its_dial_job_runs() {
    let rig = rig_or_skip!("dial-once");
    let app = hub(0).await;
    let _connected = connect_asterisk(&app);
    let proxy = AriProxy::start(&rig.ari_url).await;
    let (_, ws) = channel(&app, &rig, &proxy.url, "PJSIP/{number}@listen").await;
    let dan = contact(&app, "+34600000005").await;
    let id = call(&app, &dan, "Hello").await;
    // The decision to dial, which queues the attempt's dial job…
    assert!(
        recado_app::workers::run_once(&app.app_state, &Default::default(), "test")
            .await
            .unwrap()
    );
    assert_eq!(call_row(&app, &ws, &id).await.phase, "dialing");
    // …and the same job queued again, both run at once.
    let again = Task::VoiceDial {
        workspace_id: ws.clone(),
        message_id: id.clone(),
        attempt: 1,
    };
    let now = app.app_state.clock.now_ms();
    let job = NewJob {
        task: again.clone(),
        workspace_id: Some(&ws),
        run_at: now,
        max_attempts: 8,
    };
    app.app_state.store.enqueue_job(&job, now).await.unwrap();
    app.run_jobs_concurrently(2).await;
    drive_until(&app, &ws, &id, "ended").await;
    // Once the call is over Asterisk would take the channel id again: a
    // dial job run now must not dial either.
    app.app_state
        .store
        .enqueue_job(&job, app.app_state.clock.now_ms())
        .await
        .unwrap();
    app.run_jobs().await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    assert_eq!(
        proxy.originations_of(&format!("{id}-1")),
        1,
        "{:?}",
        proxy.originated.lock().unwrap()
    );
    let timeline = voice_timeline(&app, &dan).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
}

#[tokio::test]
async fn a_dial_claimed_before_a_crash_is_never_dialled_and_ends_unconfirmed() {
    let rig = rig_or_skip!("crash-claim");
    let app = hub(0).await;
    let _connected = connect_asterisk(&app);
    let proxy = AriProxy::start(&rig.ari_url).await;
    let (_, ws) = channel(&app, &rig, &proxy.url, "PJSIP/{number}@listen").await;
    let eva = contact(&app, "+34600000006").await;
    let id = call(&app, &eva, "Hello").await;
    assert!(
        recado_app::workers::run_once(&app.app_state, &Default::default(), "test")
            .await
            .unwrap()
    );
    // A node claimed the attempt and died before (or while) asking
    // Asterisk: whether the call was placed is unknown.
    let now = app.app_state.clock.now_ms();
    assert!(app.app_state.store.claim_dial(&id, 1, now).await.unwrap());
    app.run_jobs().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(proxy.originations_of(&format!("{id}-1")), 0);
    assert_eq!(call_row(&app, &ws, &id).await.phase, "dialing");
    // Nothing reports on it: the call's own timer closes it.
    app.clock.advance(chrono::Duration::minutes(15));
    app.run_jobs().await;
    let timeline = voice_timeline(&app, &eva).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_NOT_SENT"]);
    assert_eq!(timeline[1]["details"]["reason"], "unconfirmed");
    assert_eq!(proxy.originations_of(&format!("{id}-1")), 0);
}

#[tokio::test]
async fn keys_are_committed_within_50_ms_of_arriving() {
    let rig = rig_or_skip!("key-latency");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@answer-dtmf").await;
    let text = unique_words("Hello. This message is long enough for you to press a key while it plays");
    let mut calls = Vec::new();
    for n in 0..8 {
        let c = contact(&app, &format!("+3460000010{n}")).await;
        calls.push((call(&app, &c, &text).await, c));
    }
    for (id, _) in &calls {
        ended(&app, &ws, id).await;
    }
    for (_, c) in &calls {
        let timeline = voice_timeline(&app, c).await;
        assert!(kinds(&timeline).contains(&"VOICE_KEY_PRESSED"), "{timeline:?}");
    }
    let page = app.metrics_page().await;
    let value = |prefix: &str| -> f64 {
        page.lines()
            .find_map(|l| l.strip_prefix(prefix)?.trim().parse().ok())
            .unwrap_or(0.0)
    };
    let count = value("recado_voice_key_seconds_count");
    let within = value("recado_voice_key_seconds_bucket{le=\"0.05\"}");
    let sum = value("recado_voice_key_seconds_sum");
    eprintln!(
        "keys: {count}, within 50 ms: {within}, mean {:.1} ms, within 10 ms: {}, within 25 ms: {}",
        sum / count * 1000.0,
        value("recado_voice_key_seconds_bucket{le=\"0.01\"}"),
        value("recado_voice_key_seconds_bucket{le=\"0.025\"}"),
    );
    assert_eq!(count, calls.len() as f64);
    assert_eq!(within, count, "every key committed within 50 ms");
}

// --------------------------------------------------------------- IVR calls
//
// IVR calls are sent by workflows (`send_ivr`). Their channel routes by the
// number called, as a trunk does: `PJSIP/{number}` reaches the rig's phone
// of that number, so a transfer's number reaches another phone than the
// contact's.

/// The dial string of a channel routing by number.
const BY_NUMBER: &str = "PJSIP/{number}";
/// The rig's phones by number.
const PRESSES_1: &str = "+34600900001";
const PRESSES_9_BY_INFO: &str = "+34600900002";
const LISTENS: &str = "+34600900005";

/// An active workflow calling each contact enrolled with `ivr`.
async fn ivr_workflow(app: &TestApp, ivr: Value) -> String {
    crate::workflows::active_workflow(
        app,
        json!({"triggers": [{"type": "manual"}], "start": "call",
               "nodes": {"call": {"type": "send_ivr", "ivr": ivr, "next": "end"}, "end": {"type": "end"}}}),
    )
    .await
}

/// The contact's latest voice timeline entry of type `kind`, once there.
async fn latest(app: &TestApp, contact: &str, kind: &str) -> Value {
    until(&format!("a {kind} entry"), Duration::from_secs(15), || async move {
        voice_timeline(app, contact)
            .await
            .into_iter()
            .rev()
            .find(|e| e["type"] == kind)
    })
    .await
}

/// Enrols `contact` in `workflow`; the id of the call it places.
async fn ivr_call(app: &TestApp, workflow: &str, contact: &str) -> String {
    crate::workflows::enrol(app, workflow, &[contact]).await;
    let queued = latest(app, contact, "VOICE_QUEUED").await;
    queued["message_id"].as_str().unwrap().to_string()
}

/// A menu of about eight seconds: a key two seconds in cuts it short.
fn long_menu() -> Value {
    narration(&unique_words(
        "Hello Ana. To hear our opening hours, press one. To talk to someone, press one as well. \
         To stop these calls, press nine. This menu is long on purpose",
    ))
}

/// The menu's state after the call.
fn menu_of(row: &CallRecord) -> Value {
    serde_json::from_str::<Value>(&row.state).unwrap()["menu"].clone()
}

#[tokio::test]
async fn a_key_stops_the_menu_and_runs_its_action() {
    let rig = rig_or_skip!("ivr-key");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let ana = contact(&app, PRESSES_1).await;
    let ivr = json!({"narration": long_menu(), "max_menu_plays": 1,
                     "keys": {"1": {"action": "play", "narration": narration("Open from nine to six."), "then": "hangup"}}});
    let workflow = ivr_workflow(&app, ivr).await;
    let id = ivr_call(&app, &workflow, &ana).await;
    let row = ended(&app, &ws, &id).await;
    let timeline = voice_timeline(&app, &ana).await;
    assert_eq!(
        kinds(&timeline),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED", "VOICE_KEY_PRESSED"]
    );
    assert_eq!(timeline[3]["details"]["key"], "1");
    // The key came two seconds into an eight-second menu; its narration
    // followed at once and the call hung up after it.
    let talked = row.ended_at.unwrap() - row.answered_at.unwrap();
    assert!(talked < 6_000, "the menu was cut short by the key: {talked} ms");
}

/// A bridge as ARI describes it: the channels in it.
async fn bridge_channels(rig: &Rig, bridge: &str) -> Vec<String> {
    let r = reqwest::Client::new()
        .get(format!("{}/bridges/{bridge}", rig.ari_url))
        .basic_auth(&rig.user, Some(&rig.password))
        .send()
        .await
        .unwrap();
    if !r.status().is_success() {
        return Vec::new();
    }
    let body: Value = r.json().await.unwrap();
    let mut ids: Vec<String> = body["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_transfer_key_bridges_the_contact_with_the_number_called_and_hangs_up_when_the_agent_does() {
    let rig = rig_or_skip!("ivr-transfer");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let ana = contact(&app, PRESSES_1).await;
    let ivr = json!({"narration": long_menu(),
                     "keys": {"1": {"action": "transfer", "to": LISTENS,
                                    "narration": narration("Transferring you now.")}}});
    let workflow = ivr_workflow(&app, ivr).await;
    let id = ivr_call(&app, &workflow, &ana).await;
    let (contact_leg, agent_leg) = (format!("{id}-1"), format!("{id}-1-t"));
    let bridged = until("both legs in the bridge", Duration::from_secs(15), || {
        let rig = rig.clone();
        let bridge = format!("{id}-1-b");
        async move {
            let channels = bridge_channels(&rig, &bridge).await;
            (channels.len() == 2).then_some(channels)
        }
    })
    .await;
    assert_eq!(bridged, [contact_leg.clone(), agent_leg.clone()]);
    let config = AsteriskConfig::new(&rig.ari_url, &rig.user, &rig.password, &rig.app);
    let ari = AriClient::new(reqwest::Client::new(), config);
    let agent = ari.channel(&agent_leg).await.unwrap().expect("the agent's leg");
    assert!(agent.name.starts_with(&format!("PJSIP/{LISTENS}-")), "{agent:?}");
    assert_eq!(agent.caller.number, "+34910000000", "the call's caller id");
    // The agent hangs up: the call says goodbye to the contact.
    ari.hang_up(&agent_leg).await.unwrap();
    ended(&app, &ws, &id).await;
    until("the contact's leg hung up", Duration::from_secs(10), || {
        let ari = ari.clone();
        let leg = contact_leg.clone();
        async move { ari.channel(&leg).await.unwrap().is_none().then_some(()) }
    })
    .await;
    assert!(
        bridge_channels(&rig, &format!("{id}-1-b")).await.is_empty(),
        "the bridge is removed"
    );
    let timeline = voice_timeline(&app, &ana).await;
    assert_eq!(
        kinds(&timeline),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED", "VOICE_KEY_PRESSED"]
    );
}

#[tokio::test]
async fn a_wrong_key_plays_its_narration_then_the_menu_again() {
    let rig = rig_or_skip!("ivr-wrong");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let bea = contact(&app, PRESSES_1).await;
    let fetched_before = narrations_fetched(&app).await;
    // The phone presses 1, which does nothing here.
    let ivr = json!({"narration": narration(&unique_words("Press two")), "max_menu_plays": 2,
                     "keys": {"2": {"action": "play", "narration": narration("Two.")}},
                     "wrong_key": {"narration": narration(&unique_words("That key does nothing"))},
                     "no_input": {"timeout_s": 1, "narration": narration(&unique_words("Goodbye"))}});
    let workflow = ivr_workflow(&app, ivr).await;
    let id = ivr_call(&app, &workflow, &bea).await;
    let row = ended(&app, &ws, &id).await;
    assert_eq!(menu_of(&row), json!({"plays": 2, "status": "done"}));
    let timeline = voice_timeline(&app, &bea).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
    // The menu, the wrong-key narration and the closing one.
    assert!(narrations_fetched(&app).await >= fetched_before + 3.0);
}

#[tokio::test]
async fn silence_after_the_menu_plays_the_no_input_narration_and_the_menu_until_its_last_play() {
    let rig = rig_or_skip!("ivr-silence");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let cai = contact(&app, LISTENS).await;
    let ivr = json!({"narration": narration(&unique_words("Press one")), "max_menu_plays": 2,
                     "keys": {"1": {"action": "play", "narration": narration("One.")}},
                     "no_input": {"timeout_s": 1, "narration": narration(&unique_words("Are you there"))}});
    let workflow = ivr_workflow(&app, ivr).await;
    let id = ivr_call(&app, &workflow, &cai).await;
    let row = ended(&app, &ws, &id).await;
    assert_eq!(menu_of(&row), json!({"plays": 2, "status": "done"}));
    // Two plays, each followed by a second of silence.
    let talked = row.ended_at.unwrap() - row.answered_at.unwrap();
    assert!(talked >= 2_000, "{talked} ms");
    let timeline = voice_timeline(&app, &cai).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
}

#[tokio::test]
async fn the_opt_out_key_unsubscribes_the_contact_from_voice_so_the_next_call_is_not_sent() {
    let rig = rig_or_skip!("ivr-opt-out");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let dan = contact(&app, PRESSES_9_BY_INFO).await;
    let ivr = json!({"narration": long_menu(),
                     "keys": {"9": {"action": "unsubscribe", "narration": narration("You will not be called again.")}}});
    let first = ivr_workflow(&app, ivr.clone()).await;
    let id = ivr_call(&app, &first, &dan).await;
    ended(&app, &ws, &id).await;
    let timeline = voice_timeline(&app, &dan).await;
    assert_eq!(
        kinds(&timeline),
        [
            "VOICE_QUEUED",
            "VOICE_SENT",
            "VOICE_DELIVERED",
            "VOICE_KEY_PRESSED",
            "VOICE_UNSUBSCRIBED"
        ]
    );
    assert_eq!(timeline[3]["details"]["key"], "9");
    let history = until("the opt-out recorded", Duration::from_secs(10), || async {
        let r = app
            .get(&format!("/api/v1/contacts/{dan}/subscriptions/voice/history"))
            .await;
        let newest = r.body["items"][0].clone();
        (newest["status"] == "unsubscribed").then_some(newest)
    })
    .await;
    assert_eq!(history["source"], "ivr_key");

    let second = ivr_workflow(&app, ivr).await;
    crate::workflows::enrol(&app, &second, &[&dan]).await;
    let refused = latest(&app, &dan, "VOICE_NOT_SENT").await;
    assert_eq!(refused["details"]["reason"], "not_subscribed");
}

#[tokio::test]
async fn an_sms_key_sends_its_sms_to_the_contact() {
    let rig = rig_or_skip!("ivr-sms");
    let app = hub(2).await;
    app.channel("sms_sandbox", "SMS", json!({"senders": ["RECADO"]})).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let eva = contact(&app, PRESSES_1).await;
    let ivr = json!({"narration": long_menu(),
                     "keys": {"1": {"action": "send_sms", "sender": "RECADO", "text": "Your code: 1234",
                                    "narration": narration("We sent you a text.")}}});
    let workflow = ivr_workflow(&app, ivr).await;
    let id = ivr_call(&app, &workflow, &eva).await;
    ended(&app, &ws, &id).await;
    let sms = until("the key's SMS", Duration::from_secs(10), || async {
        app.sandbox_sms().into_iter().find(|m| m["text"] == "Your code: 1234")
    })
    .await;
    assert_eq!(sms["to"], PRESSES_1);
    let timeline = voice_timeline(&app, &eva).await;
    assert!(kinds(&timeline).contains(&"VOICE_KEY_PRESSED"), "{timeline:?}");
}

// --------------------------------------------------------- node changes

#[tokio::test]
async fn a_call_goes_on_when_its_node_stops_and_another_takes_its_application() {
    let rig = rig_or_skip!("takeover");
    let app = hub(0).await;
    let first = connect_asterisk(&app);
    let (channel, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@listen").await;
    let fay = contact(&app, "+34600000021").await;
    let text = unique_words("Hello Fay. This message goes on while the hub changes the node that runs it");
    let id = call(&app, &fay, &text).await;
    drive_until(&app, &ws, &id, "answered").await;
    app.run_jobs().await;
    first.stop().await;
    assert!(!app.app_state.asterisk.is_connected(&channel));
    // Another node takes the application; the narration ends and the call
    // hangs up as if nothing happened.
    let _second = connect_asterisk(&app);
    reconnected(&app, &channel).await;
    let row = drive_until(&app, &ws, &id, "ended").await;
    let talked = row.ended_at.unwrap() - row.answered_at.unwrap();
    assert!(
        talked < 15_000,
        "hung up after its narration, not by a timer: {talked} ms"
    );
    let timeline = voice_timeline(&app, &fay).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
}

#[tokio::test]
async fn a_call_that_ended_while_no_node_listened_ends_when_its_application_is_connected_again() {
    let rig = rig_or_skip!("reconcile");
    let app = hub(0).await;
    let first = connect_asterisk(&app);
    let (channel, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@listen").await;
    let gil = contact(&app, "+34600000022").await;
    let text = unique_words("Hello Gil. This message is cut short by a hang-up nobody hears");
    let id = call(&app, &gil, &text).await;
    drive_until(&app, &ws, &id, "answered").await;
    first.stop().await;
    // The contact hangs up while no node reads the application's events.
    let config = AsteriskConfig::new(&rig.ari_url, &rig.user, &rig.password, &rig.app);
    let ari = AriClient::new(reqwest::Client::new(), config);
    ari.hang_up(&format!("{id}-1")).await.unwrap();
    until("the channel gone", Duration::from_secs(10), || {
        let ari = ari.clone();
        let leg = format!("{id}-1");
        async move { ari.channel(&leg).await.unwrap().is_none().then_some(()) }
    })
    .await;
    app.run_jobs().await;
    assert_eq!(call_row(&app, &ws, &id).await.phase, "answered");
    let _second = connect_asterisk(&app);
    reconnected(&app, &channel).await;
    drive_until(&app, &ws, &id, "ended").await;
    let timeline = voice_timeline(&app, &gil).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
}
