//! Real calls through the voice rig: Debian's Asterisk with ARI, and SIPp
//! phones that answer, press keys, are busy or never answer
//! (`scripts/install-voice-rig`, then `scripts/voice-rig start`, as root).
//!
//! The rig's settings come from `RECADO_VOICE_RIG_ARI_URL`, `…_ARI_USER`,
//! `…_ARI_PASSWORD`, `…_APP`, else from `target/voice-rig/rig.env` (written
//! by `voice-rig start`), else the rig's defaults. Without a running rig the
//! tests are skipped with a notice — or fail when `CI=true`.
//!
//! Each test connects its own application (`{app}-{test}-{random}`): a
//! second WebSocket for one application name takes it over from the first,
//! so tests running at once must not share one. Channel ids are unique per
//! run too.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use recado_channels::voice::asterisk::{
    report_of, AriClient, AriError, AriEvent, AriEvents, AsteriskConfig, ChannelRef, Originate, Report,
};
use recado_core::voice::call::{AnsweredBy, ProviderEvent};
use recado_core::voice::Key;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest any single step may take (a step normally takes
/// milliseconds; the phones press keys 2 s after answering).
const STEP: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- the rig

struct Rig {
    client: AriClient,
    config: AsteriskConfig,
    /// Makes the call ids of this test unique.
    tag: String,
}

fn rig_settings() -> AsteriskConfig {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/voice-rig/rig.env");
    let from_file = std::fs::read_to_string(file).unwrap_or_default();
    let setting = |name: &str, default: &str| -> String {
        let key = format!("RECADO_VOICE_RIG_{name}");
        std::env::var(&key).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
            from_file
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|| default.to_string())
        })
    };
    AsteriskConfig::new(
        setting("ARI_URL", "http://127.0.0.1:8088/ari"),
        setting("ARI_USER", "recado"),
        setting("ARI_PASSWORD", "recado-secret"),
        setting("APP", "recado"),
    )
}

/// The rig for one test, or `None` (skip) when it is not running.
async fn rig(test: &str) -> Option<Rig> {
    let mut config = rig_settings();
    let tag = format!("{:08x}", rand::random::<u32>());
    config.app = format!("{}-{test}-{tag}", config.app);
    let client = AriClient::new(reqwest::Client::new(), config.clone()).with_timeout(Duration::from_secs(5));
    match client.info().await {
        Ok(_) => Some(Rig { client, config, tag }),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "the voice rig is required when CI=true, but ARI at {} did not answer: {e}. \
                 Install and start it: scripts/install-voice-rig && scripts/voice-rig start",
                config.ari_url
            )
        }
        Err(e) => {
            eprintln!(
                "SKIPPED {test}: the voice rig is not running (ARI at {}: {e}); \
                 start it with `scripts/voice-rig start` (as root)",
                config.ari_url
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

impl Rig {
    /// A channel of this test's call `name`, attempt 1.
    fn channel(&self, name: &str) -> ChannelRef {
        ChannelRef::main(format!("rig_{name}_{}", self.tag), 1)
    }

    /// The application's events, filtered to what the hub reads.
    async fn watch(&self) -> Watch {
        let events = AriEvents::connect(&self.config)
            .await
            .expect("the event WebSocket opens");
        self.client.set_event_filter().await.expect("the event filter is set");
        Watch::new(events, self.client.clone())
    }

    fn originate(&self, channel: &ChannelRef, phone: &str) -> Originate {
        Originate {
            channel_id: channel.channel_id(),
            endpoint: format!("PJSIP/100@{phone}"),
            caller_id: Some("Recado <+34910000000>".into()),
            timeout_s: 10,
            app_args: vec![channel.call_id.clone(), channel.attempt.to_string()],
        }
    }
}

// ------------------------------------------------------------- the events

/// The events of one connection, and waiting for those of the test's own
/// channels and playbacks. A test that fails hangs its channels up: a
/// channel left in the application stays up (and keeps a phone busy) until
/// someone does.
struct Watch {
    events: AriEvents,
    client: AriClient,
    /// Channel and playback ids of this test.
    mine: HashSet<String>,
    /// Every event received, the test's or not.
    all: Vec<AriEvent>,
    /// The test's own events, in order.
    seen: Vec<AriEvent>,
    /// Where the next [`Watch::until`] starts looking in `seen`.
    next: usize,
}

impl Watch {
    fn new(events: AriEvents, client: AriClient) -> Watch {
        Watch {
            events,
            client,
            mine: HashSet::new(),
            all: Vec::new(),
            seen: Vec::new(),
            next: 0,
        }
    }

    fn own(&mut self, id: impl Into<String>) {
        self.mine.insert(id.into());
    }

    fn is_mine(&self, event: &AriEvent) -> bool {
        match event {
            AriEvent::PlaybackStarted { playback_id, .. } | AriEvent::PlaybackFinished { playback_id, .. } => {
                self.mine.contains(playback_id)
            }
            AriEvent::ApplicationReplaced { .. } => true,
            other => other.channel_id().is_some_and(|id| self.mine.contains(id)),
        }
    }

    /// The next own event matching `wanted` after the one last waited for
    /// (events that came in between stay in `seen`); panics with what came
    /// instead.
    async fn until(&mut self, what: &str, wanted: impl Fn(&AriEvent) -> bool) -> AriEvent {
        let from = self.next;
        let found = self.find(what, from, wanted).await;
        self.next = found + 1;
        self.seen[found].clone()
    }

    /// The end of `channel`, whenever it came (the legs of a transfer end
    /// in either order): its cause and last state.
    async fn destroyed(&mut self, channel: &ChannelRef) -> (u16, String) {
        let id = channel.channel_id();
        let found = self
            .find(
                &format!("the end of {id}"),
                0,
                |e| matches!(e, AriEvent::ChannelDestroyed { channel_id, .. } if *channel_id == id),
            )
            .await;
        match &self.seen[found] {
            AriEvent::ChannelDestroyed { cause, state, .. } => (*cause, state.clone()),
            _ => unreachable!(),
        }
    }

    /// The index in `seen` of the first own event from `from` on that
    /// matches, reading more events as needed.
    async fn find(&mut self, what: &str, from: usize, wanted: impl Fn(&AriEvent) -> bool) -> usize {
        if let Some(i) = self.seen.iter().skip(from).position(&wanted) {
            return from + i;
        }
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let received = match tokio::time::timeout(left, self.events.next()).await {
                Ok(Some(Ok(received))) => received,
                Ok(Some(Err(e))) => panic!("waiting for {what}: {e}; seen {:#?}", self.seen),
                Ok(None) => panic!("waiting for {what}: the WebSocket closed; seen {:#?}", self.seen),
                Err(_) => panic!("no {what} within {STEP:?}; seen {:#?}", self.seen),
            };
            self.all.push(received.event.clone());
            if self.is_mine(&received.event) {
                self.seen.push(received.event);
                if wanted(&self.seen[self.seen.len() - 1]) {
                    return self.seen.len() - 1;
                }
            }
        }
    }

    /// The reports the test's events made about `channel`, keys numbered.
    fn reports(&self, channel: &ChannelRef) -> Vec<ProviderEvent> {
        let mut seq = 0;
        self.seen
            .iter()
            .filter_map(report_of)
            .filter(|(c, _)| c == channel)
            .map(|(_, report)| {
                if matches!(report, Report::Key(_)) {
                    seq += 1;
                }
                report.into_event(seq)
            })
            .collect()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        // The test's runtime is unwinding: hang up from a runtime of our own,
        // with a client of its own (pooled connections belong to a runtime).
        let client = AriClient::new(reqwest::Client::new(), self.client.config().clone());
        let ids: Vec<String> = self.mine.iter().cloned().collect();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    for id in ids {
                        let _ = client.hang_up(&id).await;
                    }
                });
            }
        })
        .join();
    }
}

fn is_answer(id: &str) -> impl Fn(&AriEvent) -> bool + '_ {
    move |e| matches!(e, AriEvent::StasisStart { channel_id, .. } if channel_id == id)
}

fn is_key(id: &str) -> impl Fn(&AriEvent) -> bool + '_ {
    move |e| matches!(e, AriEvent::ChannelDtmfReceived { channel_id, .. } if channel_id == id)
}

fn answered() -> ProviderEvent {
    ProviderEvent::Answered {
        answered_by: AnsweredBy::Unknown,
    }
}

/// The reports without repeats next to each other (ringing comes twice).
fn distinct(reports: Vec<ProviderEvent>) -> Vec<ProviderEvent> {
    let mut out: Vec<ProviderEvent> = Vec::new();
    for r in reports {
        if out.last() != Some(&r) {
            out.push(r);
        }
    }
    out
}

// ---------------------------------------------------------- the media server

/// A WAV served over HTTP as the hub serves narrations: 8 kHz, 16-bit,
/// mono. Records the paths Asterisk asked for.
struct Media {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Media {
    async fn start(seconds: u32) -> Media {
        let wav = Arc::new(tone_wav(seconds));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let base = format!("http://{}", listener.local_addr().expect("its address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let wav = wav.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    let mut words = head.split_whitespace();
                    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                    log.lock().unwrap().push(format!("{method} {path}"));
                    let header = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        wav.len()
                    );
                    let _ = socket.write_all(header.as_bytes()).await;
                    if method != "HEAD" {
                        let _ = socket.write_all(&wav).await;
                    }
                    let _ = socket.shutdown().await;
                });
            }
        });
        Media { base, requests }
    }

    /// A `sound:` URI of a path unique to the test (Asterisk caches media by URL).
    fn uri(&self, name: &str) -> String {
        format!("sound:{}/{name}.wav", self.base)
    }

    fn fetched(&self, name: &str) -> bool {
        let path = format!("GET /{name}.wav");
        self.requests.lock().unwrap().contains(&path)
    }
}

/// A 440 Hz tone, as a telephone WAV.
fn tone_wav(seconds: u32) -> Vec<u8> {
    let rate = 8_000u32;
    let samples: Vec<i16> = (0..rate * seconds)
        .map(|i| {
            let t = i as f64 / rate as f64;
            (f64::sin(2.0 * std::f64::consts::PI * 440.0 * t) * 8_000.0) as i16
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn the_connection_test_reads_the_asterisk_version() {
    let rig = rig_or_skip!("info");
    let info = rig.client.info().await.expect("info");
    assert!(
        info.version.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{info:?}"
    );
    assert!(!info.entity_id.is_empty());
}

#[tokio::test]
async fn wrong_credentials_are_refused_with_401() {
    let rig = rig_or_skip!("auth");
    let mut wrong = rig.config.clone();
    wrong.password = "not-the-password".into();
    let client = AriClient::new(reqwest::Client::new(), wrong.clone());
    assert!(matches!(
        client.info().await,
        Err(AriError::Refused { status: 401, .. })
    ));
    assert!(matches!(
        AriEvents::connect(&wrong).await,
        Err(AriError::Refused { status: 401, .. })
    ));
}

#[tokio::test]
async fn an_asterisk_that_is_not_there_is_unavailable() {
    // A port nothing listens on: bind one, note it, free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut gone = rig_settings();
    gone.ari_url = format!("http://127.0.0.1:{port}/ari");
    let error = AriClient::new(reqwest::Client::new(), gone.clone())
        .info()
        .await
        .unwrap_err();
    assert!(matches!(error, AriError::Unavailable(_)), "{error:?}");
    assert!(error.is_safe_to_retry());
    assert!(matches!(AriEvents::connect(&gone).await, Err(AriError::Unavailable(_))));
}

#[tokio::test]
async fn a_key_stops_the_menu_served_over_http_and_the_hub_hangs_up() {
    let rig = rig_or_skip!("ivr");
    let media = Media::start(8).await;
    let mut watch = rig.watch().await;
    let call = rig.channel("ivr");
    let id = call.channel_id();
    let playback = format!("{id}-menu-1");
    watch.own(&id);
    watch.own(&playback);
    let started = Instant::now();

    rig.client
        .originate(&rig.originate(&call, "answer-dtmf"))
        .await
        .expect("originate");
    watch.until("the answer", is_answer(&id)).await;
    rig.client
        .play(&id, &playback, &media.uri(&format!("menu-{}", rig.tag)))
        .await
        .expect("play");
    watch
        .until("the menu", |e| matches!(e, AriEvent::PlaybackStarted { .. }))
        .await;

    let key = watch.until("the key", is_key(&id)).await;
    assert!(
        matches!(&key, AriEvent::ChannelDtmfReceived { digit, duration_ms, .. } if digit == "1" && *duration_ms > 0)
    );
    rig.client.stop_playback(&playback).await.expect("stop the menu");
    let finished = watch
        .until("the menu's end", |e| matches!(e, AriEvent::PlaybackFinished { .. }))
        .await;
    assert!(matches!(finished, AriEvent::PlaybackFinished { state, .. } if state == "done"));
    // The 8 s menu was cut short by the key.
    assert!(started.elapsed() < Duration::from_secs(7), "{:?}", started.elapsed());
    // Fetched while it played (PlaybackStarted comes before the fetch).
    assert!(
        media.fetched(&format!("menu-{}", rig.tag)),
        "Asterisk fetched the menu over HTTP: {:?}",
        media.requests.lock().unwrap()
    );

    rig.client.hang_up(&id).await.expect("hang up");
    assert_eq!(watch.destroyed(&call).await, (16, "Up".into()));
    assert_eq!(
        distinct(watch.reports(&call)),
        [
            ProviderEvent::Ringing,
            answered(),
            ProviderEvent::Dtmf {
                key: Key::new('1').unwrap(),
                seq: 1
            },
            ProviderEvent::HungUp,
        ]
    );
}

#[tokio::test]
async fn a_key_sent_by_sip_info_is_read() {
    let rig = rig_or_skip!("info-key");
    let mut watch = rig.watch().await;
    let call = rig.channel("info_key");
    let id = call.channel_id();
    watch.own(&id);
    rig.client
        .originate(&rig.originate(&call, "answer-info"))
        .await
        .expect("originate");
    watch.until("the answer", is_answer(&id)).await;
    let key = watch.until("the key", is_key(&id)).await;
    assert!(matches!(key, AriEvent::ChannelDtmfReceived { digit, .. } if digit == "9"));
    rig.client.hang_up(&id).await.expect("hang up");
    watch.destroyed(&call).await;
    assert!(watch.reports(&call).contains(&ProviderEvent::Dtmf {
        key: Key::new('9').unwrap(),
        seq: 1
    }));
}

#[tokio::test]
async fn app_arguments_reach_the_answer_unchanged() {
    let rig = rig_or_skip!("args");
    let mut watch = rig.watch().await;
    let call = rig.channel("args");
    let id = call.channel_id();
    watch.own(&id);
    let args: Vec<String> = ["plain", "a,b", r#"say "hi""#, "f(x), g(y", r"back\slash", "", "+34 600"]
        .map(String::from)
        .to_vec();
    let originate = Originate {
        app_args: args.clone(),
        ..rig.originate(&call, "listen")
    };
    rig.client.originate(&originate).await.expect("originate");
    let answer = watch.until("the answer", is_answer(&id)).await;
    rig.client.hang_up(&id).await.expect("hang up");
    watch.destroyed(&call).await;
    assert_eq!(answer, AriEvent::StasisStart { channel_id: id, args });
}

#[tokio::test]
async fn a_busy_phone_ends_with_cause_17_reported_as_busy() {
    let rig = rig_or_skip!("busy");
    let mut watch = rig.watch().await;
    let call = rig.channel("busy");
    watch.own(call.channel_id());
    rig.client
        .originate(&rig.originate(&call, "busy"))
        .await
        .expect("originate");
    assert_eq!(watch.destroyed(&call).await.0, 17);
    assert_eq!(watch.reports(&call), [ProviderEvent::Busy]);
}

#[tokio::test]
async fn a_phone_that_rings_out_ends_with_cause_19_reported_as_no_answer() {
    let rig = rig_or_skip!("no-answer");
    let mut watch = rig.watch().await;
    let call = rig.channel("no_answer");
    watch.own(call.channel_id());
    let started = Instant::now();
    let originate = Originate {
        timeout_s: 3,
        ..rig.originate(&call, "no-answer")
    };
    rig.client.originate(&originate).await.expect("originate");
    assert_eq!(watch.destroyed(&call).await, (19, "Ringing".into()));
    let rang = started.elapsed();
    assert!(
        rang >= Duration::from_millis(2_900) && rang < Duration::from_secs(5),
        "{rang:?}"
    );
    assert_eq!(
        distinct(watch.reports(&call)),
        [ProviderEvent::Ringing, ProviderEvent::NoAnswer]
    );
}

#[tokio::test]
async fn a_phone_that_hangs_up_itself_is_reported_as_hung_up() {
    let rig = rig_or_skip!("phone-hangs-up");
    let mut watch = rig.watch().await;
    let call = rig.channel("phone_hangs_up");
    watch.own(call.channel_id());
    rig.client
        .originate(&rig.originate(&call, "hang-up"))
        .await
        .expect("originate");
    let (_cause, state) = watch.destroyed(&call).await;
    assert_eq!(state, "Up");
    assert_eq!(
        distinct(watch.reports(&call)),
        [ProviderEvent::Ringing, answered(), ProviderEvent::HungUp]
    );
}

#[tokio::test]
async fn a_second_originate_of_a_live_channel_id_already_exists() {
    let rig = rig_or_skip!("twice");
    let mut watch = rig.watch().await;
    let call = rig.channel("twice");
    let id = call.channel_id();
    watch.own(&id);
    let originate = rig.originate(&call, "listen");
    rig.client.originate(&originate).await.expect("the first originate");
    let again = rig.client.originate(&originate).await;
    assert!(matches!(again, Err(AriError::AlreadyExists(_))), "{again:?}");
    watch.until("the answer", is_answer(&id)).await;
    rig.client.hang_up(&id).await.expect("hang up");
    watch.destroyed(&call).await;
    // Exactly one call was placed.
    let answers = watch.seen.iter().filter(|e| is_answer(&id)(e)).count();
    assert_eq!(answers, 1);
}

#[tokio::test]
async fn a_key_transfers_the_call_to_a_second_leg_in_a_bridge() {
    let rig = rig_or_skip!("transfer");
    let media = Media::start(8).await;
    let mut watch = rig.watch().await;
    let call = rig.channel("transfer");
    let agent = call.transfer();
    let (id, agent_id, bridge) = (call.channel_id(), agent.channel_id(), call.bridge_id());
    let playback = format!("{id}-menu-1");
    watch.own(&id);
    watch.own(&agent_id);
    watch.own(&playback);

    rig.client
        .originate(&rig.originate(&call, "answer-dtmf"))
        .await
        .expect("originate");
    watch.until("the answer", is_answer(&id)).await;
    rig.client
        .play(&id, &playback, &media.uri(&format!("transfer-{}", rig.tag)))
        .await
        .expect("play");
    watch.until("the key", is_key(&id)).await;
    // The menu must stop first: a playing channel cannot join a bridge.
    rig.client.stop_playback(&playback).await.expect("stop the menu");
    rig.client
        .originate(&rig.originate(&agent, "listen"))
        .await
        .expect("the agent's leg");
    watch.until("the agent's answer", is_answer(&agent_id)).await;
    rig.client.create_bridge(&bridge).await.expect("a bridge");
    assert!(matches!(
        rig.client.create_bridge(&bridge).await,
        Err(AriError::AlreadyExists(_))
    ));
    rig.client
        .add_to_bridge(&bridge, &[&id, &agent_id])
        .await
        .expect("both legs bridged");

    rig.client.hang_up(&id).await.expect("hang up the contact");
    rig.client.hang_up(&agent_id).await.expect("hang up the agent");
    rig.client.destroy_bridge(&bridge).await.expect("remove the bridge");
    assert_eq!(watch.destroyed(&call).await.1, "Up");
    assert_eq!(watch.destroyed(&agent).await.1, "Up");
    assert!(watch.reports(&agent).contains(&answered()));
}

#[tokio::test]
async fn a_channel_is_found_while_it_lives_and_not_after() {
    let rig = rig_or_skip!("reconcile");
    let mut watch = rig.watch().await;
    let call = rig.channel("reconcile");
    let id = call.channel_id();
    watch.own(&id);
    rig.client
        .originate(&rig.originate(&call, "listen"))
        .await
        .expect("originate");
    watch.until("the answer", is_answer(&id)).await;
    let live = rig
        .client
        .channel(&id)
        .await
        .expect("a lookup")
        .expect("the live channel");
    assert!(live.is_up());
    assert_eq!(live.caller.number, "+34910000000");
    rig.client.hang_up(&id).await.expect("hang up");
    watch.destroyed(&call).await;
    assert_eq!(rig.client.channel(&id).await.expect("a lookup"), None);
}

#[tokio::test]
async fn removing_what_is_already_gone_succeeds() {
    let rig = rig_or_skip!("gone");
    let id = rig.channel("gone").channel_id();
    rig.client.hang_up(&id).await.expect("hang up a channel that is gone");
    rig.client
        .stop_playback(&id)
        .await
        .expect("stop a playback that is gone");
    rig.client
        .destroy_bridge(&id)
        .await
        .expect("destroy a bridge that is gone");
}

#[tokio::test]
async fn playing_on_a_channel_that_is_gone_is_refused() {
    let rig = rig_or_skip!("play-gone");
    let id = rig.channel("play_gone").channel_id();
    let error = rig.client.play(&id, &id, "sound:beep").await.unwrap_err();
    assert!(matches!(error, AriError::Refused { status: 404, .. }), "{error:?}");
}

#[tokio::test]
async fn a_media_that_cannot_be_fetched_finishes_as_failed() {
    let rig = rig_or_skip!("bad-media");
    let mut watch = rig.watch().await;
    let call = rig.channel("bad_media");
    let id = call.channel_id();
    let playback = format!("{id}-menu-1");
    watch.own(&id);
    watch.own(&playback);
    rig.client
        .originate(&rig.originate(&call, "listen"))
        .await
        .expect("originate");
    watch.until("the answer", is_answer(&id)).await;
    // Port 9 (discard) on the loopback: nothing serves it here.
    rig.client
        .play(&id, &playback, "sound:http://127.0.0.1:9/missing.wav")
        .await
        .expect("the play request is taken");
    let finished = watch
        .until("the playback's end", |e| matches!(e, AriEvent::PlaybackFinished { .. }))
        .await;
    rig.client.hang_up(&id).await.expect("hang up");
    watch.destroyed(&call).await;
    assert!(matches!(finished, AriEvent::PlaybackFinished { state, .. } if state == "failed"));
}

#[tokio::test]
async fn the_event_filter_keeps_unread_events_away() {
    let rig = rig_or_skip!("filter");
    let mut watch = rig.watch().await;
    let call = rig.channel("filter");
    let id = call.channel_id();
    watch.own(&id);
    rig.client
        .originate(&rig.originate(&call, "listen"))
        .await
        .expect("originate");
    watch.until("the answer", is_answer(&id)).await;
    rig.client.hang_up(&id).await.expect("hang up");
    watch.destroyed(&call).await;
    // Without the filter this call raises ChannelVarset and ChannelDialplan events.
    let unread: Vec<_> = watch
        .all
        .iter()
        .filter(|e| matches!(e, AriEvent::Other { .. }))
        .collect();
    assert!(unread.is_empty(), "{unread:?}");
}

#[tokio::test]
async fn a_second_connection_for_the_application_replaces_the_first() {
    let rig = rig_or_skip!("replaced");
    let mut first = rig.watch().await;
    let _second = AriEvents::connect(&rig.config).await.expect("a second connection");
    let replaced = first
        .until("the take-over", |e| matches!(e, AriEvent::ApplicationReplaced { .. }))
        .await;
    assert_eq!(
        replaced,
        AriEvent::ApplicationReplaced {
            application: rig.config.app.clone()
        }
    );
}

#[tokio::test]
async fn a_quiet_connection_stays_open_through_keepalive_pings() {
    let rig = rig_or_skip!("keepalive");
    let events = AriEvents::connect(&rig.config)
        .await
        .expect("the event WebSocket opens")
        .with_keepalive(Duration::from_millis(150));
    let mut watch = Watch::new(events, rig.client.clone());
    // Several keepalive periods with no event: pings go out and are answered.
    let quiet = tokio::time::timeout(Duration::from_millis(1_000), watch.events.next()).await;
    assert!(quiet.is_err(), "nothing should arrive on a quiet connection: {quiet:?}");
    // Still connected: the events of a call arrive.
    let call = rig.channel("keepalive");
    watch.own(call.channel_id());
    rig.client
        .originate(&rig.originate(&call, "busy"))
        .await
        .expect("originate");
    assert_eq!(watch.destroyed(&call).await.0, 17);
}
