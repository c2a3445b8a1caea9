//! What every service, job handler and worker shares.

use crate::settings::Settings;
use metrics_exporter_prometheus::PrometheusHandle;
use recado_core::clock::Clock;
use recado_store::Store;
use std::sync::Arc;

/// What every handler and worker shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub metrics: PrometheusHandle,
    /// Encrypts provider secrets at rest.
    pub secrets: Arc<crate::secrets::SecretBox>,
    /// The HTTP client for provider APIs (connection pools shared).
    pub http: reqwest::Client,
    pub webhook_writer: crate::webhook_writer::WebhookWriter,
    /// Group commit of accepted sends, and the signal that wakes the dispatcher.
    pub sends: crate::dispatch::Sends,
    pub live: tokio::sync::broadcast::Sender<crate::live::LiveEvent>,
    pub channel_cache: Arc<crate::channel_cache::ChannelCache>,
    pub caches: Arc<crate::caches::Caches>,
    pub smpp: Arc<crate::sms::smpp::SmppSessions>,
    /// The Asterisk applications this node holds (`voice_asterisk` calls).
    pub asterisk: Arc<crate::voice::asterisk::AsteriskLinks>,
    /// Channel health noted by this node, written by its heartbeat.
    pub health: Arc<crate::channels::health::HealthBoard>,
    /// This process as a node: its id names the holder of leases and keys.
    pub node: Arc<crate::node::Node>,
}
