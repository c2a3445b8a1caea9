//! The node's connections to Asterisk: one per Asterisk application the
//! `voice_asterisk` channels name (ARI URL and `app`), held by one node of
//! the hub at a time.
//!
//! ARI sends an application's events over one WebSocket, and a second
//! connection for the same name takes the application over. So each
//! application is held by the node holding its cluster-wide lock
//! ([`recado_store::locks`]), the way an SMPP bind is: that node keeps the
//! WebSocket open (reconnecting with back-off), dials the calls of the
//! application's channels — which is what holds each channel's `max_cps`
//! and `max_concurrent` across nodes — and reads their events. When it
//! stops or dies, another node takes the lock and connects the same
//! application: the calls still up in Asterisk carry on, their events now
//! reaching the new holder, and what happened while nobody listened is
//! reconciled ([`super::reconcile`]).
//!
//! Events are handled in order per call and in parallel across calls: each
//! call's events go to one of a few queues by its id.

use super::events::{self, Routed};
use super::reconcile;
use crate::channels::registry::decode_voice;
use crate::channels::voice_config::{AsteriskSettings, VoiceProviderSettings};
use crate::workers::JobError;
use crate::AppState;
use recado_channels::voice::asterisk::{AriClient, AriError, AriEvent, AriEvents, AsteriskConfig, ChannelRef};
use recado_store::locks::HeldLock;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// How often a node looks for applications nobody holds (a dead node's are
/// taken over within this time) and for changed channel settings.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);

/// The first wait before connecting again, doubled after each failure up to
/// [`RECONNECT_MAX`].
const RECONNECT_FIRST: Duration = Duration::from_millis(250);
const RECONNECT_MAX: Duration = Duration::from_secs(30);

/// Per-request timeout towards ARI: it answers in milliseconds, so a request
/// this slow is stuck and a job retried later does better.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Queues per application: calls' events are handled this many at a time.
const QUEUES: usize = 16;

/// An event that could not be handled (the database did not answer) is
/// tried this often before it is dropped — the call's timer still ends it.
const HANDLE_TRIES: u32 = 3;

/// The Asterisk applications this node holds.
#[derive(Default)]
pub struct AsteriskLinks {
    held: Mutex<HashMap<String, Arc<Link>>>,
}

impl AsteriskLinks {
    /// The application serving `channel_id`, when this node holds it.
    pub(super) fn serving(&self, channel_id: &str) -> Option<Arc<Link>> {
        locked(&self.held)
            .values()
            .find(|l| l.line(channel_id).is_some())
            .cloned()
    }

    /// Whether this node holds the Asterisk application of the voice
    /// channel `channel_id` and its event stream is open.
    pub fn is_connected(&self, channel_id: &str) -> bool {
        self.serving(channel_id).is_some_and(|l| l.is_connected())
    }
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One Asterisk application this node holds.
pub(super) struct Link {
    pub client: AriClient,
    connected: AtomicBool,
    /// Its channels, by channel id.
    lines: RwLock<HashMap<String, Arc<Line>>>,
    /// The calls it carries, by call (message) id: whose they are.
    calls: Mutex<HashMap<String, CallOf>>,
}

/// Whose a call is.
#[derive(Clone, Debug)]
pub(super) struct CallOf {
    pub workspace_id: String,
    pub channel_id: String,
}

/// One `voice_asterisk` channel of an application.
pub(super) struct Line {
    pub workspace_id: String,
    pub settings: AsteriskSettings,
    /// The channel's dials on this node pass one at a time: counting the
    /// calls up, waiting for the slot, claiming the attempt.
    pub gate: tokio::sync::Mutex<Pacing>,
    /// Dials through the gate whose acceptance is not recorded yet: they
    /// hold a line the calls table does not show yet.
    pub dialling: std::sync::atomic::AtomicU32,
}

/// A dial through the gate, counted in [`Line::dialling`] until dropped.
pub(super) struct Dialling<'a>(&'a Line);

impl Line {
    pub fn start_dial(&self) -> Dialling<'_> {
        self.dialling.fetch_add(1, Ordering::AcqRel);
        Dialling(self)
    }

    pub fn dials_under_way(&self) -> u32 {
        self.dialling.load(Ordering::Acquire)
    }
}

impl Drop for Dialling<'_> {
    fn drop(&mut self) {
        self.0.dialling.fetch_sub(1, Ordering::AcqRel);
    }
}

/// When the channel may dial again (`max_cps`), and how many of its lines
/// are known to be in use.
#[derive(Default)]
pub(super) struct Pacing {
    pub next: Option<Instant>,
    pub occupancy: Option<Occupancy>,
}

/// The lines of a channel in use when last counted, and the dials that
/// passed the gate since: together at least the lines in use now (a call
/// on the line now was on it then, or passed the gate since), so a count
/// a moment old may let a dial through without reading again.
#[derive(Clone, Copy, Debug)]
pub(super) struct Occupancy {
    pub counted_at: Instant,
    pub counted: i64,
    pub dialled_since: i64,
}

impl Occupancy {
    pub fn at_most(&self) -> i64 {
        self.counted + self.dialled_since
    }
}

impl Link {
    fn new(client: AriClient) -> Link {
        Link {
            client,
            connected: AtomicBool::new(false),
            lines: RwLock::new(HashMap::new()),
            calls: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    pub fn line(&self, channel_id: &str) -> Option<Arc<Line>> {
        self.lines
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(channel_id)
            .cloned()
    }

    pub fn channel_ids(&self) -> Vec<String> {
        self.lines
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Takes the channels' current settings; a channel whose pacing
    /// settings did not change keeps its pacing.
    fn set_lines(&self, wanted: Vec<(String, String, AsteriskSettings)>) {
        let mut lines = self.lines.write().unwrap_or_else(|p| p.into_inner());
        let mut next = HashMap::new();
        for (channel_id, workspace_id, settings) in wanted {
            let line = match lines.remove(&channel_id) {
                Some(line) if line.settings == settings => line,
                _ => Arc::new(Line {
                    workspace_id,
                    settings,
                    gate: Default::default(),
                    dialling: Default::default(),
                }),
            };
            next.insert(channel_id, line);
        }
        *lines = next;
    }

    /// Notes whose call `call_id` is, before its channel exists.
    pub fn remember(&self, call_id: &str, call: CallOf) {
        locked(&self.calls).insert(call_id.to_string(), call);
    }

    pub fn forget(&self, call_id: &str) {
        locked(&self.calls).remove(call_id);
    }

    /// Whose call an event of `channel` is about: noted when this node
    /// dialled or reconciled it, else looked up by the provider id the call
    /// recorded. `None` for a channel that is none of the hub's calls here.
    pub async fn call_of(&self, state: &AppState, channel: &ChannelRef) -> crate::AppResult<Option<CallOf>> {
        if let Some(call) = locked(&self.calls).get(&channel.call_id) {
            return Ok(Some(call.clone()));
        }
        let provider_id = ChannelRef::main(channel.call_id.clone(), channel.attempt).channel_id();
        for channel_id in self.channel_ids() {
            if let Some(row) = state.store.call_by_provider_id(&channel_id, &provider_id).await? {
                let call = CallOf {
                    workspace_id: row.workspace_id,
                    channel_id,
                };
                self.remember(&channel.call_id, call.clone());
                return Ok(Some(call));
            }
        }
        Ok(None)
    }
}

/// The ARI client of a channel's settings (every node may steer a call
/// through it; only the holder reads the events).
pub(super) fn client_for(state: &AppState, settings: &AsteriskSettings) -> AriClient {
    AriClient::new(state.http.clone(), config_of(settings)).with_timeout(REQUEST_TIMEOUT)
}

fn config_of(settings: &AsteriskSettings) -> AsteriskConfig {
    AsteriskConfig::new(
        settings.ari_url.clone(),
        settings.ari_user.clone(),
        settings.ari_password.clone(),
        settings.app.clone(),
    )
}

/// The application a channel's calls enter: its ARI URL and name.
fn link_key(settings: &AsteriskSettings) -> String {
    format!("{}|{}", settings.ari_url, settings.app)
}

/// What a connection was opened with: new credentials mean a new connection.
fn fingerprint(settings: &AsteriskSettings) -> String {
    format!(
        "{}|{}|{}|{}",
        settings.ari_url, settings.ari_user, settings.ari_password, settings.app
    )
}

/// An application this node holds: its lock and its connection's task.
struct Running {
    key: String,
    link: Arc<Link>,
    fingerprint: String,
    lock: HeldLock,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Closes the connection and frees the application for another node.
    async fn end(self, state: &AppState) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        locked(&state.asterisk.held).remove(&self.key);
        self.lock.release().await;
    }
}

/// Keeps this node's share of the Asterisk applications connected until
/// `shutdown`, then closes them so other nodes take them over at once.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut running: HashMap<String, Running> = HashMap::new();
    loop {
        keep_linked(&state, &mut running).await;
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
    for (_, r) in running.drain() {
        r.end(&state).await;
    }
}

/// The channels' settings grouped by application.
struct Wanted {
    fingerprint: String,
    settings: AsteriskSettings,
    lines: Vec<(String, String, AsteriskSettings)>,
}

/// Connects every application no node holds yet, applies changed channel
/// settings, and ends the connections of applications whose channels are
/// gone, whose credentials changed or whose lock was lost.
async fn keep_linked(state: &AppState, running: &mut HashMap<String, Running>) {
    let records = match state.store.channels_of_kind("voice_asterisk").await {
        Ok(records) => records,
        Err(e) => {
            tracing::warn!(error = %e, "Asterisk channels could not be read");
            return;
        }
    };
    let mut wanted: HashMap<String, Wanted> = HashMap::new();
    for record in records {
        let id = record.id.clone();
        let loaded = match decode_voice(state, record) {
            Ok(loaded) => loaded,
            Err(e) => {
                tracing::warn!(channel = %id, error = %e.message, "an Asterisk channel's settings do not read");
                continue;
            }
        };
        let VoiceProviderSettings::Asterisk(settings) = loaded.voice.provider else {
            continue;
        };
        let entry = wanted.entry(link_key(&settings)).or_insert_with(|| Wanted {
            fingerprint: fingerprint(&settings),
            settings: settings.clone(),
            lines: Vec::new(),
        });
        entry
            .lines
            .push((loaded.record.id, loaded.record.workspace_id, settings));
    }
    let keys: Vec<String> = running.keys().cloned().collect();
    for key in keys {
        let Some(r) = running.get_mut(&key) else { continue };
        let stale = match wanted.get(&key) {
            None => true,
            Some(w) => w.fingerprint != r.fingerprint || !r.lock.is_alive().await,
        };
        if stale {
            if let Some(r) = running.remove(&key) {
                tracing::info!(app = %r.link.client.config().app, "Asterisk application released (channels gone, settings changed or lock lost)");
                r.end(state).await;
            }
        }
    }
    for (key, w) in wanted {
        if let Some(r) = running.get(&key) {
            r.link.set_lines(w.lines);
            continue;
        }
        let lock = match state.store.try_lock(&format!("voice-ari:{key}")).await {
            Ok(Some(lock)) => lock,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "could not take an Asterisk application's lock");
                continue;
            }
        };
        let link = Arc::new(Link::new(client_for(state, &w.settings)));
        link.set_lines(w.lines);
        locked(&state.asterisk.held).insert(key.clone(), link.clone());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve(state.clone(), link.clone(), stopped));
        running.insert(
            key.clone(),
            Running {
                key,
                link,
                fingerprint: w.fingerprint,
                lock,
                stop,
                task,
            },
        );
    }
}

/// How a connection ended.
enum Ended {
    Stopped,
    Closed,
    Replaced,
    Failed(AriError),
}

/// Keeps one application's WebSocket open until `stop`: connect, set the
/// event filter, reconcile the calls, read; after a failure, again after a
/// growing wait.
async fn serve(state: AppState, link: Arc<Link>, mut stop: watch::Receiver<bool>) {
    let app = link.client.config().app.clone();
    let (queues, handlers) = start_queues(&state, &link);
    let mut wait = RECONNECT_FIRST;
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            break;
        }
        match AriEvents::connect(link.client.config()).await {
            Ok(events) => {
                failures = 0;
                wait = RECONNECT_FIRST;
                if let Err(e) = link.client.set_event_filter().await {
                    tracing::warn!(%app, error = %e, "the ARI event filter could not be set; reading every event");
                }
                // Whatever was noted belongs to a connection that is over:
                // reconciling notes the calls that are still up.
                locked(&link.calls).clear();
                link.connected.store(true, Ordering::Release);
                tracing::info!(%app, "Asterisk application connected");
                reconcile::run(&state, &link).await;
                let ended = read(events, &queues, &mut stop).await;
                link.connected.store(false, Ordering::Release);
                match ended {
                    Ended::Stopped => break,
                    Ended::Closed => tracing::warn!(%app, "the ARI WebSocket closed; reconnecting"),
                    Ended::Replaced => tracing::error!(
                        %app,
                        "another client connected the ARI application `{app}` and took its events; \
                         each hub (and nothing else) must use an application name of its own"
                    ),
                    Ended::Failed(e) => tracing::warn!(%app, error = %e, "the ARI WebSocket failed; reconnecting"),
                }
            }
            Err(e) => {
                failures += 1;
                if failures == 1 || failures.is_multiple_of(20) {
                    tracing::warn!(%app, error = %e, failures, "could not connect to Asterisk; retrying");
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
        wait = (wait * 2).min(RECONNECT_MAX);
    }
    drop(queues);
    for handler in handlers {
        let _ = handler.await;
    }
}

/// Reads events until the connection ends or `stop`, handing each to its
/// call's queue.
async fn read(
    mut events: AriEvents,
    queues: &[mpsc::UnboundedSender<Routed>],
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    loop {
        let next = tokio::select! {
            next = events.next() => next,
            _ = stop.changed() => {
                events.close().await;
                return Ended::Stopped;
            }
        };
        let received = match next {
            None => return Ended::Closed,
            Some(Err(AriError::Protocol(e))) => {
                tracing::warn!(error = %e, "an unreadable ARI event was skipped");
                continue;
            }
            Some(Err(e)) => return Ended::Failed(e),
            Some(Ok(received)) => received,
        };
        let at = Instant::now();
        metrics::counter!("recado_voice_ari_events_total").increment(1);
        if let AriEvent::ApplicationReplaced { .. } = received.event {
            return Ended::Replaced;
        }
        let Some(channel) = received.event.channel_id().and_then(ChannelRef::parse) else {
            continue;
        };
        let queue = &queues[queue_of(&channel.call_id, queues.len())];
        let _ = queue.send(Routed {
            channel,
            event: received.event,
            at,
        });
    }
}

fn queue_of(call_id: &str, queues: usize) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    call_id.hash(&mut hasher);
    (hasher.finish() % queues as u64) as usize
}

/// The queues of an application and their handlers, which end when the
/// queues are dropped.
fn start_queues(
    state: &AppState,
    link: &Arc<Link>,
) -> (Vec<mpsc::UnboundedSender<Routed>>, Vec<tokio::task::JoinHandle<()>>) {
    let mut queues = Vec::with_capacity(QUEUES);
    let mut handlers = Vec::with_capacity(QUEUES);
    for _ in 0..QUEUES {
        let (tx, mut rx) = mpsc::unbounded_channel::<Routed>();
        let (state, link) = (state.clone(), link.clone());
        handlers.push(tokio::spawn(async move {
            while let Some(routed) = rx.recv().await {
                let mut tries = 0;
                loop {
                    tries += 1;
                    match events::handle(&state, &link, &routed).await {
                        Ok(()) => break,
                        Err(JobError::Retry { message, .. }) if tries < HANDLE_TRIES => {
                            tracing::debug!(error = %message, "an ARI event is tried again");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        Err(e) => {
                            tracing::warn!(channel = %routed.channel, error = ?e, "an ARI event could not be handled");
                            break;
                        }
                    }
                }
            }
        }));
        queues.push(tx);
    }
    (queues, handlers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calls_events_always_go_to_the_same_queue() {
        for id in ["msg_1", "msg_01kbq7zc3m9yx0ge4d6a8v2rt1", ""] {
            let q = queue_of(id, QUEUES);
            assert!(q < QUEUES);
            assert_eq!(queue_of(id, QUEUES), q);
        }
    }

    #[test]
    fn channels_of_one_application_share_a_link_and_new_credentials_reconnect() {
        let settings = AsteriskSettings {
            ari_url: "http://127.0.0.1:8088/ari".into(),
            ari_user: "recado".into(),
            ari_password: "secret".into(),
            app: "recado".into(),
            dial_template: "PJSIP/{number}@trunk".into(),
            max_cps: 10,
            max_concurrent: 50,
        };
        let other_trunk = AsteriskSettings {
            dial_template: "PJSIP/{number}@other".into(),
            ..settings.clone()
        };
        assert_eq!(link_key(&settings), link_key(&other_trunk));
        let new_password = AsteriskSettings {
            ari_password: "changed".into(),
            ..settings.clone()
        };
        assert_eq!(link_key(&settings), link_key(&new_password));
        assert_ne!(fingerprint(&settings), fingerprint(&new_password));
        let other_app = AsteriskSettings {
            app: "recado-2".into(),
            ..settings.clone()
        };
        assert_ne!(link_key(&settings), link_key(&other_app));
    }
}
