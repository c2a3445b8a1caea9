//! The event half of ARI: one WebSocket per application.
//!
//! ARI keeps no backlog: events raised while no connection is open are lost
//! (and a channel left in the application stays up). So the hub reconnects
//! at once when [`AriEvents::next`] ends, sets the event filter again, and
//! reconciles its open calls with `GET /channels/{id}`.
//!
//! A connection that silently died (a host gone without closing TCP) would
//! look like a quiet one; after [`DEFAULT_KEEPALIVE`] without a message the
//! stream pings Asterisk, and a ping left unanswered as long again ends it.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{HeaderValue, AUTHORIZATION};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{AriError, AsteriskConfig, Received};

/// How long a connection may be quiet before it is pinged, and how long the
/// ping may go unanswered.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(30);

/// How long opening the WebSocket may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The event WebSocket of one application.
pub struct AriEvents {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    keepalive: Duration,
    /// A ping is out and nothing came back since.
    pinged: bool,
    closed: bool,
}

impl std::fmt::Debug for AriEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AriEvents")
            .field("keepalive", &self.keepalive)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl AriEvents {
    /// Opens `…/ari/events?app={app}` (`ws` for an `http` ARI URL, `wss` for
    /// `https`), authenticated by HTTP basic auth. Connecting registers the
    /// application — and takes it over from any other connection of the
    /// same name, which then gets [`AriEvent::ApplicationReplaced`](super::AriEvent::ApplicationReplaced).
    pub async fn connect(config: &AsteriskConfig) -> Result<AriEvents, AriError> {
        let url = config.events_url()?;
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| AriError::Config(format!("no WebSocket request for `{url}`: {e}")))?;
        request.headers_mut().insert(AUTHORIZATION, basic_auth(config)?);
        let connect = tokio_tungstenite::connect_async(request);
        let (socket, _response) = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => return Err(handshake_error(e)),
            Err(_) => return Err(AriError::Unavailable("the ARI WebSocket did not open in time".into())),
        };
        Ok(AriEvents {
            socket,
            keepalive: DEFAULT_KEEPALIVE,
            pinged: false,
            closed: false,
        })
    }

    /// Sets how long the connection may be quiet before a ping (and how
    /// long a ping may go unanswered).
    pub fn with_keepalive(mut self, keepalive: Duration) -> AriEvents {
        self.keepalive = keepalive;
        self
    }

    /// The next event; `None` once the connection is closed. An
    /// [`AriError::Protocol`] error is one unreadable event and the stream
    /// goes on; after any other error it is over (the next call is `None`).
    pub async fn next(&mut self) -> Option<Result<Received, AriError>> {
        while !self.closed {
            let message = match tokio::time::timeout(self.keepalive, self.socket.next()).await {
                Ok(message) => message,
                Err(_quiet) if self.pinged => {
                    return self.end(AriError::Unavailable("the ARI WebSocket did not answer a ping".into()));
                }
                Err(_quiet) => {
                    self.pinged = true;
                    if let Err(e) = self.socket.send(Message::Ping(Default::default())).await {
                        return self.end(AriError::Unavailable(format!("the ARI WebSocket failed: {e}")));
                    }
                    continue;
                }
            };
            self.pinged = false;
            match message {
                Some(Ok(Message::Text(text))) => return Some(Received::from_json(text.as_str())),
                // Pings are answered by the WebSocket layer; pongs and
                // binary frames carry no events.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) | None => self.closed = true,
                Some(Err(e)) => return self.end(AriError::Unavailable(format!("the ARI WebSocket failed: {e}"))),
            }
        }
        None
    }

    /// Closes the connection (the application stays registered in Asterisk
    /// until another connection takes it).
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }

    fn end(&mut self, error: AriError) -> Option<Result<Received, AriError>> {
        self.closed = true;
        Some(Err(error))
    }
}

fn basic_auth(config: &AsteriskConfig) -> Result<HeaderValue, AriError> {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", config.user, config.password));
    let mut value = HeaderValue::from_str(&format!("Basic {token}"))
        .map_err(|e| AriError::Config(format!("unusable ARI credentials: {e}")))?;
    value.set_sensitive(true);
    Ok(value)
}

/// A refused upgrade (401 wrong credentials, 400 unknown application
/// parameters) is a refusal; a connection that could not be made is
/// unavailability.
fn handshake_error(error: tungstenite::Error) -> AriError {
    match error {
        tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            let body = response.body().as_deref().unwrap_or_default();
            let message = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["message"].as_str().map(String::from))
                .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
            if (400..500).contains(&status) {
                AriError::Refused { status, message }
            } else {
                AriError::Unavailable(format!("HTTP {status}: {message}"))
            }
        }
        tungstenite::Error::Url(e) => AriError::Config(e.to_string()),
        other => AriError::Unavailable(other.to_string()),
    }
}
