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
use recado_store::calls::CallRecord;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

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
    channel_with(app, rig, ari_url, dial_template, 20, 20).await
}

/// [`channel`] with its own `max_cps` and `max_concurrent`.
async fn channel_with(
    app: &TestApp,
    rig: &Rig,
    ari_url: &str,
    dial_template: &str,
    max_cps: u32,
    max_concurrent: u32,
) -> (String, String) {
    let id = app
        .channel(
            "voice_asterisk",
            "Asterisk",
            json!({"ari_url": ari_url, "ari_user": rig.user, "ari_password": rig.password,
                   "app": rig.app, "dial_template": dial_template, "caller_ids": ["+34910000000"],
                   "max_cps": max_cps, "max_concurrent": max_concurrent}),
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

// After the macro and helpers above, which the tests below use.
mod crash;
mod dials;
mod ivr;
mod messages;
mod nodes;
mod proxy;
