//! The REST half of ARI: the dozen requests an IVR call needs.
//!
//! Parameters go in the query string, as ARI's own API description declares
//! them (`paramType: query`); ids the hub chooses go in the path. Requests
//! are built by pure functions ([`Request`]) so their exact form is tested
//! without an Asterisk, and sent by [`AriClient`].

use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use super::error::{status_error, transport_error, Conflict};
use super::events::{ari_time_ms, AriEvent};
use super::{AriError, AsteriskConfig};

/// Per-request timeout unless [`AriClient::with_timeout`] sets another. ARI
/// answers in milliseconds (originate p99 4.6 ms on the rig); a request that
/// takes this long is stuck.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One call attempt to place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Originate {
    /// The hub's id of the channel (`ChannelRef::channel_id`): a second
    /// originate of a live id is refused, so a retry never dials twice.
    pub channel_id: String,
    /// The dial string, e.g. `PJSIP/+34600000000@trunk`.
    pub endpoint: String,
    /// `Name <number>` or a bare number; `None` leaves the trunk's own. It
    /// reaches the callee only when the endpoint has `send_pai=yes` and
    /// `trust_id_outbound=yes` and no `from_user`.
    pub caller_id: Option<String>,
    /// How long the phone may ring, in seconds (ARI's default is 30).
    pub timeout_s: u32,
    /// Handed back in the answer's `StasisStart.args`, each exactly as given
    /// (commas, quotes and parentheses are escaped for Asterisk's argument
    /// parser).
    pub app_args: Vec<String>,
}

/// A channel as ARI describes it (the answer to an originate or a
/// `GET /channels/{id}`, and the `channel` of events).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ChannelInfo {
    pub id: String,
    /// The technology name, e.g. `PJSIP/trunk-0000002a`.
    #[serde(default)]
    pub name: String,
    /// `Down`, `Ringing`, `Up`, … (Asterisk's channel states).
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub caller: Party,
    /// When the channel was created, as ARI writes times.
    #[serde(default, rename = "creationtime")]
    pub created: String,
}

impl ChannelInfo {
    /// Whether the call is answered.
    pub fn is_up(&self) -> bool {
        self.state == "Up"
    }

    /// [`created`](Self::created) in milliseconds since the epoch.
    pub fn created_ms(&self) -> Option<i64> {
        ari_time_ms(&self.created)
    }
}

/// A caller or connected party.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Party {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub number: String,
}

/// What `GET /asterisk/info` says of the system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsteriskInfo {
    /// e.g. `22.10.1+dfsg+~cs6.17.60671434-1`.
    pub version: String,
    /// The system's id (a MAC address by default), in every event as `asterisk_id`.
    pub entity_id: String,
}

/// One ARI request, before it is sent.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Request {
    pub method: Method,
    pub url: Url,
    pub body: Option<serde_json::Value>,
    /// What a 409 means.
    pub conflict: Conflict,
    /// A 404 is an answer (`None`), not an error: the thing is already gone.
    pub missing_ok: bool,
}

impl Request {
    fn new(method: Method, url: Url) -> Request {
        Request {
            method,
            url,
            body: None,
            conflict: Conflict::Refusal,
            missing_ok: false,
        }
    }
}

/// ARI splits some parameters (media, channel lists) at commas; an id or
/// URI with one would become two.
fn no_comma(what: &str, value: &str) -> Result<(), AriError> {
    if value.contains(',') {
        return Err(AriError::Config(format!(
            "{what} `{value}` cannot contain a comma (ARI reads it as a list)"
        )));
    }
    Ok(())
}

/// The originate's `appArgs`: Asterisk splits it at commas, honouring
/// double quotes, parentheses and backslash escapes, and removes the quotes
/// and escapes. Escaping each of those characters keeps every argument
/// exactly as given (checked on the rig).
pub(crate) fn app_args(args: &[String]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for c in arg.chars() {
            if matches!(c, '\\' | ',' | '"' | '(' | ')') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

pub(crate) mod requests {
    //! The requests, one function each.
    use super::*;

    pub fn info(config: &AsteriskConfig) -> Result<Request, AriError> {
        Ok(Request::new(Method::GET, config.resource(&["asterisk", "info"], &[])?))
    }

    /// `POST /channels/{channelId}?endpoint=…&app=…&appArgs=…&callerId=…&timeout=…`
    pub fn originate(config: &AsteriskConfig, call: &Originate) -> Result<Request, AriError> {
        let timeout = call.timeout_s.to_string();
        let args = app_args(&call.app_args);
        let mut query = vec![("endpoint", call.endpoint.as_str()), ("app", config.app.as_str())];
        if !call.app_args.is_empty() {
            query.push(("appArgs", &args));
        }
        if let Some(caller_id) = call.caller_id.as_deref().filter(|c| !c.is_empty()) {
            query.push(("callerId", caller_id));
        }
        query.push(("timeout", &timeout));
        let mut request = Request::new(Method::POST, config.resource(&["channels", &call.channel_id], &query)?);
        request.conflict = Conflict::Exists;
        Ok(request)
    }

    pub fn channel(config: &AsteriskConfig, channel_id: &str) -> Result<Request, AriError> {
        let mut request = Request::new(Method::GET, config.resource(&["channels", channel_id], &[])?);
        request.missing_ok = true;
        Ok(request)
    }

    /// `DELETE /channels/{id}?reason=normal` (cause 16 on the channel).
    pub fn hang_up(config: &AsteriskConfig, channel_id: &str) -> Result<Request, AriError> {
        let url = config.resource(&["channels", channel_id], &[("reason", "normal")])?;
        let mut request = Request::new(Method::DELETE, url);
        request.missing_ok = true;
        Ok(request)
    }

    /// `POST /channels/{id}/play/{playbackId}?media=…`
    pub fn play(
        config: &AsteriskConfig,
        channel_id: &str,
        playback_id: &str,
        media_uri: &str,
    ) -> Result<Request, AriError> {
        no_comma("the media URI", media_uri)?;
        let url = config.resource(&["channels", channel_id, "play", playback_id], &[("media", media_uri)])?;
        Ok(Request::new(Method::POST, url))
    }

    pub fn stop_playback(config: &AsteriskConfig, playback_id: &str) -> Result<Request, AriError> {
        let mut request = Request::new(Method::DELETE, config.resource(&["playbacks", playback_id], &[])?);
        request.missing_ok = true;
        Ok(request)
    }

    /// `POST /bridges/{bridgeId}?type=mixing`
    pub fn create_bridge(config: &AsteriskConfig, bridge_id: &str) -> Result<Request, AriError> {
        let url = config.resource(&["bridges", bridge_id], &[("type", "mixing")])?;
        let mut request = Request::new(Method::POST, url);
        request.conflict = Conflict::Exists;
        Ok(request)
    }

    /// `POST /bridges/{id}/addChannel?channel=a,b&inhibitConnectedLineUpdates=true`
    ///
    /// Without the inhibition Asterisk tells each leg who the other is by a
    /// re-INVITE: the contact would see the agent's own number, and a trunk
    /// (or the rig's phones) may not take a re-INVITE mid-call.
    pub fn add_to_bridge(config: &AsteriskConfig, bridge_id: &str, channel_ids: &[&str]) -> Result<Request, AriError> {
        for id in channel_ids {
            no_comma("the channel id", id)?;
        }
        let channels = channel_ids.join(",");
        let query = [("channel", channels.as_str()), ("inhibitConnectedLineUpdates", "true")];
        let url = config.resource(&["bridges", bridge_id, "addChannel"], &query)?;
        Ok(Request::new(Method::POST, url))
    }

    pub fn destroy_bridge(config: &AsteriskConfig, bridge_id: &str) -> Result<Request, AriError> {
        let mut request = Request::new(Method::DELETE, config.resource(&["bridges", bridge_id], &[])?);
        request.missing_ok = true;
        Ok(request)
    }

    /// `PUT /applications/{app}/eventFilter` allowing only the events the
    /// hub reads ([`AriEvent::KINDS`]): without a filter a third of an IVR
    /// call's events are `ChannelVarset` noise.
    pub fn set_event_filter(config: &AsteriskConfig) -> Result<Request, AriError> {
        let url = config.resource(&["applications", &config.app, "eventFilter"], &[])?;
        let allowed: Vec<_> = AriEvent::KINDS
            .iter()
            .map(|kind| serde_json::json!({ "type": kind }))
            .collect();
        let mut request = Request::new(Method::PUT, url);
        request.body = Some(serde_json::json!({ "allowed": allowed }));
        Ok(request)
    }
}

/// The ARI client of one Asterisk; cheap to clone.
#[derive(Clone, Debug)]
pub struct AriClient {
    http: reqwest::Client,
    config: AsteriskConfig,
    timeout: Duration,
}

impl AriClient {
    pub fn new(http: reqwest::Client, config: AsteriskConfig) -> AriClient {
        AriClient {
            http,
            config,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Per-request timeout (connect, send and read together).
    pub fn with_timeout(mut self, timeout: Duration) -> AriClient {
        self.timeout = timeout;
        self
    }

    pub fn config(&self) -> &AsteriskConfig {
        &self.config
    }

    /// The system's version: the channel's connection test. Wrong
    /// credentials are `Refused` 401; an Asterisk still booting answers 503
    /// (`Unavailable`).
    pub async fn info(&self) -> Result<AsteriskInfo, AriError> {
        #[derive(Deserialize)]
        struct Info {
            system: System,
        }
        #[derive(Deserialize)]
        struct System {
            version: String,
            #[serde(default)]
            entity_id: String,
        }
        let body = self.send(requests::info(&self.config)?).await?;
        let info: Info = decode(&body, AriError::Protocol)?;
        Ok(AsteriskInfo {
            version: info.system.version,
            entity_id: info.system.entity_id,
        })
    }

    /// Places one attempt. `Ok` is the provider's acceptance; the answer,
    /// busy, no answer… come as events. [`AriError::AlreadyExists`]: this
    /// channel id is already dialled and still up — never dial again.
    pub async fn originate(&self, call: &Originate) -> Result<ChannelInfo, AriError> {
        let body = self.send(requests::originate(&self.config, call)?).await?;
        // Asterisk took the call whatever the body says.
        decode(&body, AriError::Uncertain)
    }

    /// The channel if it still exists (`None` once it has ended): how the hub
    /// reconciles its open calls after a restart — a channel left in the
    /// application by a lost connection stays up until hung up.
    pub async fn channel(&self, channel_id: &str) -> Result<Option<ChannelInfo>, AriError> {
        match self
            .send_or_missing(requests::channel(&self.config, channel_id)?)
            .await?
        {
            Some(body) => decode(&body, AriError::Protocol).map(Some),
            None => Ok(None),
        }
    }

    /// Hangs the channel up (normal clearing). A channel already gone is fine.
    pub async fn hang_up(&self, channel_id: &str) -> Result<(), AriError> {
        self.send_or_missing(requests::hang_up(&self.config, channel_id)?)
            .await
            .map(drop)
    }

    /// Plays `media_uri` on the channel under the hub's `playback_id`:
    /// `sound:http://…/x.wav` fetches an 8 kHz WAV over HTTP (once; Asterisk
    /// caches it), `sound:name` a file on the box. A media that cannot be
    /// fetched is not an error here: its `PlaybackFinished` says `failed`.
    pub async fn play(&self, channel_id: &str, playback_id: &str, media_uri: &str) -> Result<(), AriError> {
        self.send(requests::play(&self.config, channel_id, playback_id, media_uri)?)
            .await
            .map(drop)
    }

    /// Stops (or unqueues) a playback; one already finished is fine. Must
    /// come before bridging the channel: a queued playback blocks
    /// `addChannel`.
    pub async fn stop_playback(&self, playback_id: &str) -> Result<(), AriError> {
        self.send_or_missing(requests::stop_playback(&self.config, playback_id)?)
            .await
            .map(drop)
    }

    /// A mixing bridge under the hub's id ([`AriError::AlreadyExists`] when
    /// it exists).
    pub async fn create_bridge(&self, bridge_id: &str) -> Result<(), AriError> {
        self.send(requests::create_bridge(&self.config, bridge_id)?)
            .await
            .map(drop)
    }

    /// Puts channels (in the application) into the bridge.
    pub async fn add_to_bridge(&self, bridge_id: &str, channel_ids: &[&str]) -> Result<(), AriError> {
        self.send(requests::add_to_bridge(&self.config, bridge_id, channel_ids)?)
            .await
            .map(drop)
    }

    /// Destroys the bridge (its channels stay up); one already gone is fine.
    pub async fn destroy_bridge(&self, bridge_id: &str) -> Result<(), AriError> {
        self.send_or_missing(requests::destroy_bridge(&self.config, bridge_id)?)
            .await
            .map(drop)
    }

    /// Lets only the events the hub reads reach the application. The
    /// application exists only while a WebSocket is connected to it (404
    /// before), so this follows each [`AriEvents::connect`](super::AriEvents::connect).
    pub async fn set_event_filter(&self) -> Result<(), AriError> {
        self.send(requests::set_event_filter(&self.config)?).await.map(drop)
    }

    /// Sends a request: the body of its 2xx answer (empty for a 404 the
    /// request allows).
    async fn send(&self, request: Request) -> Result<Vec<u8>, AriError> {
        Ok(self.send_or_missing(request).await?.unwrap_or_default())
    }

    /// Sends a request: the body of a 2xx answer, `None` for a 404 the
    /// request allows.
    async fn send_or_missing(&self, request: Request) -> Result<Option<Vec<u8>>, AriError> {
        let mut builder = self
            .http
            .request(request.method.clone(), request.url.clone())
            .basic_auth(&self.config.user, Some(&self.config.password))
            .timeout(self.timeout);
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(transport_error)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND && request.missing_ok {
            return Ok(None);
        }
        if !status.is_success() {
            // A refusal whose body cannot be read is still a refusal.
            let body = response.bytes().await.unwrap_or_default();
            return Err(status_error(status.as_u16(), &body, request.conflict));
        }
        let body = response.bytes().await.map_err(|e| AriError::Uncertain(e.to_string()))?;
        Ok(Some(body.to_vec()))
    }
}

fn decode<T: DeserializeOwned>(body: &[u8], error: fn(String) -> AriError) -> Result<T, AriError> {
    serde_json::from_slice(body).map_err(|e| error(format!("unreadable answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AsteriskConfig {
        AsteriskConfig::new("http://127.0.0.1:8088/ari", "recado", "secret", "recado")
    }

    fn call() -> Originate {
        Originate {
            channel_id: "msg_01kbq7zc3m9yx0ge4d6a8v2rt1-1".into(),
            endpoint: "PJSIP/+34600000000@trunk".into(),
            caller_id: Some("Recado <+34910000000>".into()),
            timeout_s: 25,
            app_args: vec!["msg_01kbq7zc3m9yx0ge4d6a8v2rt1".into(), "1".into()],
        }
    }

    #[test]
    fn originate_puts_the_hub_id_in_the_path_and_the_rest_in_the_query() {
        let request = requests::originate(&config(), &call()).unwrap();
        assert_eq!(request.method, Method::POST);
        assert_eq!(
            request.url.as_str(),
            "http://127.0.0.1:8088/ari/channels/msg_01kbq7zc3m9yx0ge4d6a8v2rt1-1\
             ?endpoint=PJSIP%2F%2B34600000000%40trunk&app=recado\
             &appArgs=msg_01kbq7zc3m9yx0ge4d6a8v2rt1%2C1\
             &callerId=Recado+%3C%2B34910000000%3E&timeout=25"
        );
        assert_eq!(request.body, None);
    }

    #[test]
    fn a_second_originate_of_an_id_reads_409_as_already_exists() {
        let request = requests::originate(&config(), &call()).unwrap();
        assert_eq!(request.conflict, Conflict::Exists);
        assert!(!request.missing_ok);
    }

    #[test]
    fn originate_leaves_out_empty_arguments_and_caller_id() {
        let call = Originate {
            caller_id: None,
            app_args: vec![],
            ..call()
        };
        let request = requests::originate(&config(), &call).unwrap();
        let keys: Vec<_> = request.url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        assert_eq!(keys, ["endpoint", "app", "timeout"]);
    }

    #[test]
    fn app_args_escape_what_asterisks_argument_parser_would_eat() {
        let args = ["plain", "a,b", r#"say "hi""#, "f(x)", r"back\slash", ""].map(String::from);
        assert_eq!(app_args(&args), r#"plain,a\,b,say \"hi\",f\(x\),back\\slash,"#);
    }

    #[test]
    fn play_uses_the_hubs_playback_id() {
        let request = requests::play(&config(), "c-1", "c-1-menu-1", "sound:http://127.0.0.1:8099/m/ab.wav").unwrap();
        assert_eq!(request.method, Method::POST);
        assert_eq!(
            request.url.as_str(),
            "http://127.0.0.1:8088/ari/channels/c-1/play/c-1-menu-1?media=sound%3Ahttp%3A%2F%2F127.0.0.1%3A8099%2Fm%2Fab.wav"
        );
    }

    #[test]
    fn a_media_uri_with_a_comma_is_refused_before_sending() {
        let error = requests::play(&config(), "c-1", "p", "sound:http://h/a,b.wav").unwrap_err();
        assert!(matches!(error, AriError::Config(_)));
    }

    #[test]
    fn removals_accept_a_404() {
        let c = config();
        for request in [
            requests::hang_up(&c, "c-1").unwrap(),
            requests::stop_playback(&c, "p").unwrap(),
            requests::destroy_bridge(&c, "b").unwrap(),
            requests::channel(&c, "c-1").unwrap(),
        ] {
            assert!(request.missing_ok, "{}", request.url);
        }
        let hang_up = requests::hang_up(&c, "c-1").unwrap();
        assert_eq!(hang_up.method, Method::DELETE);
        assert_eq!(
            hang_up.url.as_str(),
            "http://127.0.0.1:8088/ari/channels/c-1?reason=normal"
        );
    }

    #[test]
    fn bridges_are_mixing_and_take_a_comma_separated_channel_list() {
        let c = config();
        let create = requests::create_bridge(&c, "c-1-b").unwrap();
        assert_eq!(
            create.url.as_str(),
            "http://127.0.0.1:8088/ari/bridges/c-1-b?type=mixing"
        );
        assert_eq!(create.conflict, Conflict::Exists);
        let add = requests::add_to_bridge(&c, "c-1-b", &["c-1", "c-1-t"]).unwrap();
        assert_eq!(
            add.url.as_str(),
            "http://127.0.0.1:8088/ari/bridges/c-1-b/addChannel?channel=c-1%2Cc-1-t&inhibitConnectedLineUpdates=true"
        );
        assert!(requests::add_to_bridge(&c, "b", &["x,y"]).is_err());
    }

    #[test]
    fn the_event_filter_allows_exactly_the_events_read() {
        let request = requests::set_event_filter(&config()).unwrap();
        assert_eq!(request.method, Method::PUT);
        assert_eq!(
            request.url.as_str(),
            "http://127.0.0.1:8088/ari/applications/recado/eventFilter"
        );
        let body = request.body.unwrap();
        let allowed: Vec<_> = body["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["type"].as_str().unwrap())
            .collect();
        assert_eq!(allowed, AriEvent::KINDS);
        assert!(!allowed.contains(&"ChannelVarset"));
    }

    #[test]
    fn a_channel_reads_from_aris_answer() {
        let body = br#"{"id":"msg_1-1","name":"PJSIP/listen-0000000b","state":"Down","protocol_id":"x",
            "caller":{"name":"Recado","number":"+34910000000"},"connected":{"name":"","number":""},
            "accountcode":"","dialplan":{"context":"from-phone","exten":"s","priority":1},
            "creationtime":"2026-12-05T02:50:00.750+0000","language":"en"}"#;
        let channel: ChannelInfo = decode(body, AriError::Protocol).unwrap();
        assert_eq!(channel.id, "msg_1-1");
        assert_eq!(channel.state, "Down");
        assert!(!channel.is_up());
        assert_eq!(channel.caller.number, "+34910000000");
        assert_eq!(channel.created_ms(), Some(1_796_439_000_750));
    }
}
