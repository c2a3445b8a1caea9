//! A local stand-in for a TwiML voice provider, for the tests of this crate and of the hub:
//! [`TwimlRunner`] answers the Calls API on `127.0.0.1` and then *plays* each call against the
//! hub as the provider would — signed status callbacks, the document request, `<Gather>`
//! actions with the digits of a per-number [`Script`], `<Redirect>`s, `<Dial>` actions — and
//! records everything it did for assertions.
//!
//! What it does for a call (Twilio's behaviour, as far as the hub can see it):
//!
//! 1. `POST /2010-04-01/Accounts/{sid}/Calls.json`: checks basic auth (401, error 20003),
//!    `To`, `From` and `Url` (400 with errors 21201, 21213, 21205), applies a
//!    [`Script::refuse`] of the called number, records the form and answers 201 with a call
//!    resource whose `sid` is `CA` + 32 hex digits.
//! 2. Posts the status callbacks the form asked for (`StatusCallbackEvent`; `completed` only
//!    when none): `initiated`, `ringing`, then `in-progress` (event `answered`) — or straight
//!    to the final `busy` (SIP 486), `no-answer` (SIP 487) or `failed` (the script's SIP code)
//!    as the `completed` event. Each carries `SequenceNumber` from 0, the final one
//!    `CallDuration` (and `Duration`), `SipResponseCode`.
//! 3. Once answered, requests the call's `Url` (with `CallStatus=in-progress`, and
//!    `AnsweredBy` when `MachineDetection` was asked for) and carries out the document:
//!    records each `<Play>` (optionally fetching the audio), `<Say>`, `<Pause>`; at a
//!    `<Gather>` records its prompts and sends the script's next key to the action (an empty
//!    `Digits` for silence — or, without `actionOnEmptyResult="true"`, goes on with the next
//!    verb), or hangs up there if the script says so; records a `<Dial>` and posts its
//!    action with the script's `DialCallStatus`; follows `<Redirect>`; stops at `<Hangup/>`
//!    or the end of a document. Relative URLs are resolved against the document's. More than
//!    [`MAX_DOCUMENTS`] documents in one call end it with an error (a hub looping for ever).
//! 4. Posts the final `completed` callback.
//!
//! Every request to the hub is signed with `X-Twilio-Signature` exactly as the provider signs
//! (full URL with query; POST parameters). `GET …/Calls/{Sid}.json` reads a call back and
//! `POST …/Calls/{Sid}.json` with `Status=completed` hangs it up at the next step.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use super::calls::TwimlConfig;
use super::document::{Dial, Method, Response, Say, Verb};
use crate::sms::http::signature::{signature, SIGNATURE_HEADER};

/// The account the runner answers to unless started with another.
pub const TEST_ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TEST_AUTH_TOKEN: &str = "twiml-runner-auth-token";
/// The most documents one call may request before the runner gives up on it.
pub const MAX_DOCUMENTS: usize = 50;

const API_VERSION: &str = "2010-04-01";
/// How long the runner waits for the hub on each request (the provider's own is about 15 s).
const HUB_TIMEOUT: Duration = Duration::from_secs(15);

/// How the called number behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    outcome: Outcome,
    answered_by: Option<String>,
    dial_status: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Refuse {
        http_status: u16,
        code: i64,
        message: String,
    },
    Busy,
    NoAnswer,
    Failed {
        sip: u16,
    },
    Answer {
        keys: VecDeque<String>,
        /// After the keys: hang up at the next `<Gather>` (else stay silent).
        then_hang_up: bool,
    },
}

impl Script {
    fn new(outcome: Outcome) -> Script {
        Script {
            outcome,
            answered_by: None,
            dial_status: "completed".into(),
        }
    }

    /// The Calls API refuses the call with the provider's error `code` and `message`.
    pub fn refuse(http_status: u16, code: i64, message: impl Into<String>) -> Script {
        Script::new(Outcome::Refuse {
            http_status,
            code,
            message: message.into(),
        })
    }

    /// The line is busy.
    pub fn busy() -> Script {
        Script::new(Outcome::Busy)
    }

    /// It rings out.
    pub fn no_answer() -> Script {
        Script::new(Outcome::NoAnswer)
    }

    /// The call fails with SIP 404 (no such number).
    pub fn failed() -> Script {
        Script::failed_with_sip(404)
    }

    /// The call fails with SIP final response `sip`.
    pub fn failed_with_sip(sip: u16) -> Script {
        Script::new(Outcome::Failed { sip })
    }

    /// Answers and presses `keys`, one per `<Gather>` in order; `""` is silence at that
    /// `<Gather>`. After the last key it stays silent.
    pub fn answer_and_press<I, S>(keys: I) -> Script
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Script::new(Outcome::Answer {
            keys: keys.into_iter().map(Into::into).collect(),
            then_hang_up: false,
        })
    }

    /// Answers, listens and hangs up at the first `<Gather>` (during the menu).
    pub fn answer_and_hang_up() -> Script {
        Script::answer_and_press(Vec::<String>::new()).then_hang_up()
    }

    /// Answers and never presses a key.
    pub fn answer_silent() -> Script {
        Script::answer_and_press(Vec::<String>::new())
    }

    /// After the scripted keys, hang up at the next `<Gather>` instead of staying silent.
    pub fn then_hang_up(mut self) -> Script {
        if let Outcome::Answer { then_hang_up, .. } = &mut self.outcome {
            *then_hang_up = true;
        }
        self
    }

    /// What answering-machine detection reports (`human`, `machine_start`, `fax`, …) when the
    /// call asked for it; `human` unless set.
    pub fn answered_by(mut self, answered_by: impl Into<String>) -> Script {
        self.answered_by = Some(answered_by.into());
        self
    }

    /// The `DialCallStatus` of transfers (`completed` unless set).
    pub fn dial_status(mut self, status: impl Into<String>) -> Script {
        self.dial_status = status.into();
        self
    }
}

/// Who ended an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HungUpBy {
    /// A `<Hangup/>`.
    Document,
    /// The last document ran out of verbs.
    EndOfDocument,
    /// The called contact, as scripted.
    Callee,
    /// A hang-up through the Calls API.
    Api,
}

/// One thing the runner did during a call, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A status callback posted; `http_status` is the hub's answer (`None`: no answer).
    Callback {
        status: String,
        url: String,
        params: Vec<(String, String)>,
        http_status: Option<u16>,
    },
    /// A document requested (the call's `Url`, an action, a redirect) and the hub's answer.
    Request {
        url: String,
        method: Method,
        params: Vec<(String, String)>,
        http_status: Option<u16>,
        body: String,
    },
    /// A `<Play>` (its absolute URL); `media_status` when the runner fetches audio.
    Play {
        url: String,
        media_status: Option<u16>,
    },
    Say(Say),
    Pause {
        length_s: u32,
    },
    /// Keys sent to a `<Gather>`; empty for silence.
    Digits {
        digits: String,
    },
    /// A `<Dial>` and the outcome the runner gave it.
    Dial {
        dial: Dial,
        status: String,
    },
    Redirect {
        url: String,
    },
    HungUp {
        by: HungUpBy,
    },
    /// What went wrong (a hub error, an unreadable document, …); the call ends.
    Error(String),
}

/// A call the runner was asked to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerCall {
    pub sid: String,
    /// The Calls API form as posted.
    pub form: Vec<(String, String)>,
    pub to: String,
    pub from: String,
    pub url: String,
    pub status_callback: Option<String>,
    /// The `StatusCallbackEvent`s asked for.
    pub status_callback_events: Vec<String>,
    pub machine_detection: bool,
    /// The current `CallStatus`.
    pub status: String,
    pub answered_by: Option<String>,
    /// `CallDuration` of the final callback.
    pub duration_s: Option<u32>,
    pub steps: Vec<Step>,
    /// The final callback is posted; nothing more happens.
    pub finished: bool,
}

impl RunnerCall {
    /// The status callbacks posted: `(CallStatus, the hub's HTTP status)`.
    pub fn callbacks(&self) -> Vec<(String, Option<u16>)> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Callback {
                    status, http_status, ..
                } => Some((status.clone(), *http_status)),
                _ => None,
            })
            .collect()
    }

    /// The `CallStatus` of each status callback, in order.
    pub fn callback_statuses(&self) -> Vec<String> {
        self.callbacks().into_iter().map(|(s, _)| s).collect()
    }

    /// The URLs played.
    pub fn plays(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Play { url, .. } => Some(url.clone()),
                _ => None,
            })
            .collect()
    }

    /// The texts said.
    pub fn says(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Say(say) => Some(say.text.clone()),
                _ => None,
            })
            .collect()
    }

    /// The `Digits` sent, in order (`""` for silence).
    pub fn digits_sent(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Digits { digits } => Some(digits.clone()),
                _ => None,
            })
            .collect()
    }

    /// The transfers, with the outcome given to each.
    pub fn dials(&self) -> Vec<(Dial, String)> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Dial { dial, status } => Some((dial.clone(), status.clone())),
                _ => None,
            })
            .collect()
    }

    /// The documents the hub answered with, in order.
    pub fn documents(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Request {
                    http_status: Some(200..=299),
                    body,
                    ..
                } => Some(body.clone()),
                _ => None,
            })
            .collect()
    }

    /// The document requests: `(URL, params)`.
    pub fn requests(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Request { url, params, .. } => Some((url.clone(), params.clone())),
                _ => None,
            })
            .collect()
    }

    /// How the answered call ended, if it did.
    pub fn hung_up_by(&self) -> Option<HungUpBy> {
        self.steps.iter().find_map(|s| match s {
            Step::HungUp { by } => Some(*by),
            _ => None,
        })
    }

    pub fn errors(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Error(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }
}

struct Entry {
    call: RunnerCall,
    script: Script,
    hang_up: bool,
}

#[derive(Default)]
struct State {
    scripts: HashMap<String, Script>,
    default_script: Option<Script>,
    calls: Vec<Entry>,
    fetch_media: bool,
}

struct Inner {
    account_sid: String,
    auth_token: String,
    http: reqwest::Client,
    state: Mutex<State>,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_call<T>(&self, sid: &str, f: impl FnOnce(&mut Entry) -> T) -> Option<T> {
        self.state().calls.iter_mut().find(|e| e.call.sid == sid).map(f)
    }

    fn step(&self, sid: &str, step: Step) {
        self.with_call(sid, |e| e.call.steps.push(step));
    }
}

/// The stand-in provider; stops (server and calls in flight) when dropped.
pub struct TwimlRunner {
    inner: Arc<Inner>,
    addr: SocketAddr,
}

impl std::fmt::Debug for TwimlRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwimlRunner").field("addr", &self.addr).finish()
    }
}

impl TwimlRunner {
    /// A runner for [`TEST_ACCOUNT_SID`] / [`TEST_AUTH_TOKEN`] on a free local port.
    pub async fn start() -> TwimlRunner {
        TwimlRunner::start_with(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN).await
    }

    /// A runner for the given account.
    pub async fn start_with(account_sid: impl Into<String>, auth_token: impl Into<String>) -> TwimlRunner {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the runner binds a local port");
        let addr = listener.local_addr().expect("a bound listener has an address");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client builds");
        let inner = Arc::new(Inner {
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            http,
            state: Mutex::new(State::default()),
            tasks: Mutex::new(Vec::new()),
        });
        let server = tokio::spawn(serve(listener, inner.clone()));
        inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(server.abort_handle());
        TwimlRunner { inner, addr }
    }

    /// `http://127.0.0.1:{port}`: the channel's `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel config pointing at this runner.
    pub fn config(&self) -> TwimlConfig {
        TwimlConfig {
            base_url: self.base_url(),
            account_sid: self.inner.account_sid.clone(),
            auth_token: self.inner.auth_token.clone(),
        }
    }

    pub fn account_sid(&self) -> &str {
        &self.inner.account_sid
    }

    pub fn auth_token(&self) -> &str {
        &self.inner.auth_token
    }

    /// How calls to `to` behave from now on.
    pub fn script(&self, to: &str, script: Script) {
        self.inner.state().scripts.insert(to.to_string(), script);
    }

    /// How calls to numbers without a script behave ([`Script::answer_silent`] unless set).
    pub fn default_script(&self, script: Script) {
        self.inner.state().default_script = Some(script);
    }

    /// Whether each `<Play>` URL is fetched (GET) and its HTTP status recorded.
    pub fn fetch_media(&self, on: bool) {
        self.inner.state().fetch_media = on;
    }

    /// Every call placed so far, oldest first.
    pub fn calls(&self) -> Vec<RunnerCall> {
        self.inner.state().calls.iter().map(|e| e.call.clone()).collect()
    }

    pub fn call(&self, sid: &str) -> Option<RunnerCall> {
        self.inner.with_call(sid, |e| e.call.clone())
    }

    /// The call once its final callback is posted; panics after `timeout` with what happened.
    pub async fn finished(&self, sid: &str, timeout: Duration) -> RunnerCall {
        let deadline = Instant::now() + timeout;
        loop {
            let call = self.call(sid);
            if let Some(call) = &call {
                if call.finished {
                    return call.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "call {sid} not finished after {timeout:?}: {call:#?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Posts `form` to `url` signed as the provider signs; the hub's HTTP status.
    pub async fn post_signed(&self, url: &str, form: &[(String, String)]) -> Result<u16, String> {
        let sig = signature(&self.inner.auth_token, url, form);
        self.post_with_signature(url, form, &sig).await
    }

    /// Posts `form` to `url` with a signature made with another token (a forged callback); the
    /// hub's HTTP status, which should be 401 or 403.
    pub async fn post_with_bad_signature(&self, url: &str, form: &[(String, String)]) -> Result<u16, String> {
        let sig = signature("not-the-auth-token", url, form);
        self.post_with_signature(url, form, &sig).await
    }

    async fn post_with_signature(&self, url: &str, form: &[(String, String)], sig: &str) -> Result<u16, String> {
        let response = self
            .inner
            .http
            .post(url)
            .header(SIGNATURE_HEADER, sig)
            .form(form)
            .timeout(HUB_TIMEOUT)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.status().as_u16())
    }
}

impl Drop for TwimlRunner {
    fn drop(&mut self) {
        for task in self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            task.abort();
        }
    }
}

/// A status callback form as the provider posts it, with `extra` parameters after the usual
/// ones (`CallDuration`, `AnsweredBy`, `SipResponseCode`, …).
pub fn status_callback_form(call_sid: &str, status: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form = call_params(TEST_ACCOUNT_SID, call_sid, "+15550001111", "+5511900000001", status);
    form.push(("CallbackSource".into(), "call-progress-events".into()));
    form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    form
}

/// A `<Gather>` action form with `digits` (empty for silence).
pub fn gather_form(call_sid: &str, digits: &str) -> Vec<(String, String)> {
    let mut form = call_params(
        TEST_ACCOUNT_SID,
        call_sid,
        "+15550001111",
        "+5511900000001",
        "in-progress",
    );
    form.push(("Digits".into(), digits.into()));
    form
}

/// A `<Dial>` action form with `DialCallStatus=dial_status`.
pub fn dial_action_form(call_sid: &str, dial_status: &str) -> Vec<(String, String)> {
    let mut form = call_params(
        TEST_ACCOUNT_SID,
        call_sid,
        "+15550001111",
        "+5511900000001",
        "in-progress",
    );
    form.push(("DialCallStatus".into(), dial_status.into()));
    form.push(("DialCallSid".into(), new_sid()));
    form.push(("DialCallDuration".into(), "42".into()));
    form
}

/// The parameters of every request about a call.
fn call_params(account_sid: &str, call_sid: &str, from: &str, to: &str, status: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", account_sid),
        ("ApiVersion", API_VERSION),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("Called", to),
        ("Caller", from),
        ("Direction", "outbound-api"),
        ("From", from),
        ("To", to),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn new_sid() -> String {
    format!("CA{:032x}", rand::random::<u128>())
}

// ---- the Calls API ----

struct HttpRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct HttpAnswer {
    status: u16,
    body: serde_json::Value,
}

async fn serve(listener: TcpListener, inner: Arc<Inner>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let inner = inner.clone();
        tokio::spawn(async move {
            let _ = handle(stream, inner).await;
        });
    }
}

async fn handle(mut stream: TcpStream, inner: Arc<Inner>) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    let (answer, placed) = route(&inner, &request);
    let body = answer.body.to_string();
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.status,
        reason(answer.status),
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await?;
    // The provider answers the API first and only then starts calling.
    if let Some(sid) = placed {
        let player = tokio::spawn(play(inner.clone(), sid));
        inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(player.abort_handle());
    }
    Ok(())
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<HttpRequest>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split_whitespace();
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Ok(Some(HttpRequest {
        method,
        path,
        headers,
        body,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn error(status: u16, code: i64, message: &str) -> HttpAnswer {
    HttpAnswer {
        status,
        body: json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status,
        }),
    }
}

/// The answer, and the sid of a call to start playing once it is sent.
fn route(inner: &Arc<Inner>, request: &HttpRequest) -> (HttpAnswer, Option<String>) {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", inner.account_sid, inner.auth_token))
    );
    if request.header("authorization") != Some(expected.as_str()) {
        return (error(401, 20003, "Authenticate"), None);
    }
    let prefix = format!("/{API_VERSION}/Accounts/{}/", inner.account_sid);
    let not_found = || {
        error(
            404,
            20404,
            &format!("The requested resource {} was not found", request.path),
        )
    };
    let Some(rest) = request.path.strip_prefix(&prefix) else {
        return (not_found(), None);
    };
    let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
    match (request.method.as_str(), rest) {
        ("POST", "Calls.json") => create(inner, form),
        (method, rest) => {
            let Some(sid) = rest.strip_prefix("Calls/").and_then(|r| r.strip_suffix(".json")) else {
                return (not_found(), None);
            };
            let answer = match method {
                "GET" => inner.with_call(sid, |e| resource(&inner.account_sid, &e.call)),
                "POST" => inner.with_call(sid, |e| {
                    let status = form.iter().find(|(k, _)| k == "Status").map(|(_, v)| v.as_str());
                    if matches!(status, Some("completed" | "canceled")) && !e.call.finished {
                        e.hang_up = true;
                    }
                    resource(&inner.account_sid, &e.call)
                }),
                _ => return (error(405, 20004, "Method not allowed"), None),
            };
            (
                answer
                    .map(|body| HttpAnswer { status: 200, body })
                    .unwrap_or_else(not_found),
                None,
            )
        }
    }
}

fn create(inner: &Arc<Inner>, form: Vec<(String, String)>) -> (HttpAnswer, Option<String>) {
    let value = |name: &str| {
        form.iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.clone())
    };
    let Some(to) = value("To") else {
        return (error(400, 21201, "No 'To' number is specified"), None);
    };
    let Some(from) = value("From") else {
        return (error(400, 21213, "No 'From' number is specified"), None);
    };
    let url = value("Url").unwrap_or_default();
    if !matches!(reqwest::Url::parse(&url), Ok(u) if u.scheme() == "http" || u.scheme() == "https") {
        return (error(400, 21205, "Url is not a valid URL"), None);
    }
    let mut state = inner.state();
    let script = state
        .scripts
        .get(&to)
        .or(state.default_script.as_ref())
        .cloned()
        .unwrap_or_else(Script::answer_silent);
    if let Outcome::Refuse {
        http_status,
        code,
        message,
    } = &script.outcome
    {
        return (error(*http_status, *code, message), None);
    }
    let mut events: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "StatusCallbackEvent")
        .flat_map(|(_, v)| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    if events.is_empty() {
        events.push("completed".into());
    }
    let call = RunnerCall {
        sid: new_sid(),
        to,
        from,
        url,
        status_callback: value("StatusCallback"),
        status_callback_events: events,
        machine_detection: value("MachineDetection").is_some(),
        status: "queued".into(),
        answered_by: None,
        duration_s: None,
        steps: Vec::new(),
        finished: false,
        form,
    };
    let body = resource(&inner.account_sid, &call);
    let sid = call.sid.clone();
    state.calls.push(Entry {
        call,
        script,
        hang_up: false,
    });
    (HttpAnswer { status: 201, body }, Some(sid))
}

/// The call resource as the provider's JSON has it.
fn resource(account_sid: &str, call: &RunnerCall) -> serde_json::Value {
    json!({
        "sid": call.sid,
        "account_sid": account_sid,
        "to": call.to,
        "from": call.from,
        "status": call.status,
        "direction": "outbound-api",
        "api_version": API_VERSION,
        "answered_by": call.answered_by,
        "duration": call.duration_s.map(|d| d.to_string()),
        "date_created": chrono::Utc::now().to_rfc2822(),
        "parent_call_sid": null,
        "price": null,
        "price_unit": "USD",
        "queue_time": "0",
        "uri": format!("/{API_VERSION}/Accounts/{account_sid}/Calls/{}.json", call.sid),
    })
}

// ---- playing a call ----

struct Player {
    inner: Arc<Inner>,
    call: RunnerCall,
    script: Script,
    keys: VecDeque<String>,
    then_hang_up: bool,
    sequence: u32,
    started: Instant,
}

enum Input {
    Digits(String),
    HangUp,
}

async fn play(inner: Arc<Inner>, sid: String) {
    let Some((call, script)) = inner.with_call(&sid, |e| (e.call.clone(), e.script.clone())) else {
        return;
    };
    let (keys, then_hang_up) = match &script.outcome {
        Outcome::Answer { keys, then_hang_up } => (keys.clone(), *then_hang_up),
        _ => (VecDeque::new(), false),
    };
    let mut player = Player {
        inner,
        call,
        script,
        keys,
        then_hang_up,
        sequence: 0,
        started: Instant::now(),
    };
    player.run().await;
    player.inner.with_call(&sid, |e| e.call.finished = true);
}

impl Player {
    async fn run(&mut self) {
        self.status("initiated", "initiated", Vec::new()).await;
        match self.script.outcome.clone() {
            Outcome::Refuse { .. } => {}
            Outcome::Busy => {
                self.status("ringing", "ringing", Vec::new()).await;
                self.end("busy", 486, 0).await;
            }
            Outcome::NoAnswer => {
                self.status("ringing", "ringing", Vec::new()).await;
                self.end("no-answer", 487, 0).await;
            }
            Outcome::Failed { sip } => self.end("failed", sip, 0).await,
            Outcome::Answer { .. } => {
                self.status("ringing", "ringing", Vec::new()).await;
                let answered_by = self.answered_by();
                self.inner
                    .with_call(&self.call.sid, |e| e.call.answered_by = answered_by);
                let extra = self.answered_by_param();
                self.status("in-progress", "answered", extra).await;
                self.documents().await;
                let duration = self.started.elapsed().as_secs_f64().ceil().max(1.0) as u32;
                self.end("completed", 200, duration).await;
            }
        }
    }

    fn answered_by(&self) -> Option<String> {
        self.call
            .machine_detection
            .then(|| self.script.answered_by.clone().unwrap_or_else(|| "human".into()))
    }

    fn answered_by_param(&self) -> Vec<(String, String)> {
        self.answered_by()
            .map(|a| vec![("AnsweredBy".to_string(), a)])
            .unwrap_or_default()
    }

    fn step(&self, step: Step) {
        self.inner.step(&self.call.sid, step);
    }

    fn hang_up_requested(&self) -> bool {
        self.inner.with_call(&self.call.sid, |e| e.hang_up).unwrap_or(true)
    }

    fn params(&self, status: &str) -> Vec<(String, String)> {
        call_params(
            &self.inner.account_sid,
            &self.call.sid,
            &self.call.from,
            &self.call.to,
            status,
        )
    }

    /// The call is now `status`; the callback is posted when `event` was asked for.
    async fn status(&mut self, status: &str, event: &str, extra: Vec<(String, String)>) {
        self.inner
            .with_call(&self.call.sid, |e| e.call.status = status.to_string());
        let Some(url) = self.call.status_callback.clone() else {
            return;
        };
        if !self.call.status_callback_events.iter().any(|e| e == event) {
            return;
        }
        let mut params = self.params(status);
        params.push(("CallbackSource".into(), "call-progress-events".into()));
        params.push(("SequenceNumber".into(), self.sequence.to_string()));
        params.push(("Timestamp".into(), chrono::Utc::now().to_rfc2822()));
        params.extend(extra);
        self.sequence += 1;
        let http_status = match self.request(&url, Method::Post, &params).await {
            Ok((status, _)) => Some(status),
            Err(e) => {
                self.step(Step::Error(format!("status callback to {url}: {e}")));
                None
            }
        };
        self.step(Step::Callback {
            status: status.to_string(),
            url,
            params,
            http_status,
        });
    }

    /// The final status, as the `completed` event.
    async fn end(&mut self, status: &str, sip: u16, duration_s: u32) {
        self.inner
            .with_call(&self.call.sid, |e| e.call.duration_s = Some(duration_s));
        let mut extra = vec![
            ("CallDuration".to_string(), duration_s.to_string()),
            ("Duration".to_string(), duration_s.div_ceil(60).to_string()),
            ("SipResponseCode".to_string(), sip.to_string()),
        ];
        if status == "completed" {
            extra.extend(self.answered_by_param());
        }
        self.status(status, "completed", extra).await;
    }

    fn next_input(&mut self) -> Input {
        match self.keys.pop_front() {
            Some(key) => Input::Digits(key),
            None if self.then_hang_up => Input::HangUp,
            None => Input::Digits(String::new()),
        }
    }

    /// Requests and carries out documents until the call ends.
    async fn documents(&mut self) {
        let mut next = Some((self.call.url.clone(), request_method(&self.call.form), Vec::new()));
        let mut count = 0;
        'documents: while let Some((url, method, extra)) = next.take() {
            if self.hang_up_requested() {
                self.step(Step::HungUp { by: HungUpBy::Api });
                return;
            }
            count += 1;
            if count > MAX_DOCUMENTS {
                self.step(Step::Error(format!("more than {MAX_DOCUMENTS} documents in one call")));
                return;
            }
            let Some(document) = self.fetch_document(&url, method, extra).await else {
                return;
            };
            for verb in document.verbs {
                if self.hang_up_requested() {
                    self.step(Step::HungUp { by: HungUpBy::Api });
                    return;
                }
                match verb {
                    Verb::Play { .. } | Verb::Say(_) | Verb::Pause { .. } => {
                        self.prompt(&url, verb).await;
                    }
                    Verb::Gather(gather) => {
                        for prompt in gather.prompts {
                            self.prompt(&url, prompt.into()).await;
                        }
                        let digits = match self.next_input() {
                            Input::HangUp => {
                                self.step(Step::HungUp { by: HungUpBy::Callee });
                                return;
                            }
                            Input::Digits(digits) => digits,
                        };
                        self.step(Step::Digits { digits: digits.clone() });
                        if digits.is_empty() && gather.action_on_empty_result != Some(true) {
                            // Silence without an action result: on with the next verb.
                            continue;
                        }
                        let action = gather.action.as_deref().unwrap_or(&url);
                        let Some(action) = self.resolve(&url, action) else {
                            return;
                        };
                        let method = gather.method.unwrap_or(Method::Post);
                        next = Some((action, method, vec![("Digits".to_string(), digits)]));
                        continue 'documents;
                    }
                    Verb::Dial(dial) => {
                        let status = self.script.dial_status.clone();
                        self.step(Step::Dial {
                            dial: dial.clone(),
                            status: status.clone(),
                        });
                        if let Some(action) = &dial.action {
                            let Some(action) = self.resolve(&url, action) else {
                                return;
                            };
                            let connected = matches!(status.as_str(), "completed" | "answered");
                            let extra = vec![
                                ("DialCallStatus".to_string(), status),
                                ("DialCallSid".to_string(), new_sid()),
                                ("DialCallDuration".to_string(), if connected { "1" } else { "0" }.into()),
                            ];
                            next = Some((action, dial.method.unwrap_or(Method::Post), extra));
                            continue 'documents;
                        }
                    }
                    Verb::Redirect(redirect) => {
                        let Some(target) = self.resolve(&url, &redirect.url) else {
                            return;
                        };
                        self.step(Step::Redirect { url: target.clone() });
                        next = Some((target, redirect.method.unwrap_or(Method::Post), Vec::new()));
                        continue 'documents;
                    }
                    Verb::Hangup => {
                        self.step(Step::HungUp { by: HungUpBy::Document });
                        return;
                    }
                }
            }
            self.step(Step::HungUp {
                by: HungUpBy::EndOfDocument,
            });
        }
    }

    async fn fetch_document(&mut self, url: &str, method: Method, extra: Vec<(String, String)>) -> Option<Response> {
        let mut params = self.params("in-progress");
        params.extend(self.answered_by_param());
        params.extend(extra);
        let answer = self.request(url, method, &params).await;
        let (http_status, body) = match &answer {
            Ok((status, body)) => (Some(*status), body.clone()),
            Err(_) => (None, String::new()),
        };
        self.step(Step::Request {
            url: url.to_string(),
            method,
            params,
            http_status,
            body: body.clone(),
        });
        match answer {
            Err(e) => {
                self.step(Step::Error(format!("document request to {url}: {e}")));
                None
            }
            Ok((status, _)) if !(200..300).contains(&status) => {
                self.step(Step::Error(format!("{url} answered HTTP {status}")));
                None
            }
            Ok(_) => match Response::parse(&body) {
                Ok(document) => Some(document),
                Err(e) => {
                    self.step(Step::Error(format!("unreadable document from {url}: {e}")));
                    None
                }
            },
        }
    }

    async fn prompt(&mut self, base: &str, verb: Verb) {
        match verb {
            Verb::Play { url } => {
                let url = self.resolve(base, &url).unwrap_or(url);
                let fetch = self.inner.state().fetch_media;
                let media_status = if fetch {
                    match self.inner.http.get(&url).timeout(HUB_TIMEOUT).send().await {
                        Ok(response) => Some(response.status().as_u16()),
                        Err(e) => {
                            self.step(Step::Error(format!("audio {url}: {e}")));
                            None
                        }
                    }
                } else {
                    None
                };
                self.step(Step::Play { url, media_status });
            }
            Verb::Say(say) => self.step(Step::Say(say)),
            Verb::Pause { length_s } => self.step(Step::Pause { length_s }),
            other => self.step(Step::Error(format!("not a prompt: {other:?}"))),
        }
    }

    /// `target` as an absolute URL, relative ones against `base`.
    fn resolve(&self, base: &str, target: &str) -> Option<String> {
        match reqwest::Url::parse(base).and_then(|b| b.join(target)) {
            Ok(url) => Some(url.to_string()),
            Err(e) => {
                self.step(Step::Error(format!("bad URL `{target}`: {e}")));
                None
            }
        }
    }

    /// A signed request to the hub: POST with the form, or GET with the parameters added to
    /// the query. The status and the body.
    async fn request(&self, url: &str, method: Method, params: &[(String, String)]) -> Result<(u16, String), String> {
        let token = &self.inner.auth_token;
        let request = match method {
            Method::Post => self
                .inner
                .http
                .post(url)
                .header(SIGNATURE_HEADER, signature(token, url, params))
                .form(params),
            Method::Get => {
                let mut full = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
                full.query_pairs_mut().extend_pairs(params);
                let sig = signature(token, full.as_str(), &[]);
                self.inner.http.get(full).header(SIGNATURE_HEADER, sig)
            }
        };
        let response = request
            .header("User-Agent", "TwilioProxy/1.1")
            .timeout(HUB_TIMEOUT)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, body))
    }
}

/// The create form's `Method` for the call's `Url` (POST unless GET).
fn request_method(form: &[(String, String)]) -> Method {
    match form.iter().find(|(k, _)| k == "Method").map(|(_, v)| v.as_str()) {
        Some(m) if m.eq_ignore_ascii_case("GET") => Method::Get,
        _ => Method::Post,
    }
}
