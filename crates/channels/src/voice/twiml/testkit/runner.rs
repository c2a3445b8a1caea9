//! The runner's handle: it starts the Calls API server, takes the scripts of the called
//! numbers, and reads back the calls it placed; and the state its server and players share.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::task::AbortHandle;

use super::call::{RunnerCall, Step};
use super::script::Script;
use super::server::serve;
use super::{HUB_TIMEOUT, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN};
use crate::sms::http::signature::{signature, SIGNATURE_HEADER};
use crate::voice::twiml::calls::TwimlConfig;

/// A call placed, with the script it plays and whether the Calls API asked to hang it up.
pub(super) struct Entry {
    pub(super) call: RunnerCall,
    pub(super) script: Script,
    pub(super) hang_up: bool,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) scripts: HashMap<String, Script>,
    pub(super) default_script: Option<Script>,
    pub(super) calls: Vec<Entry>,
    pub(super) fetch_media: bool,
}

/// What the runner's handle, its server and its players share.
pub(super) struct Inner {
    pub(super) account_sid: String,
    pub(super) auth_token: String,
    pub(super) http: reqwest::Client,
    state: Mutex<State>,
    /// The server and the calls being played, stopped when the runner is dropped.
    pub(super) tasks: Mutex<Vec<AbortHandle>>,
}

impl Inner {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn with_call<T>(&self, sid: &str, f: impl FnOnce(&mut Entry) -> T) -> Option<T> {
        self.state().calls.iter_mut().find(|e| e.call.sid == sid).map(f)
    }

    pub(super) fn step(&self, sid: &str, step: Step) {
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
