//! Starting and steering the test SMSC (`crates/channels/tests/smsc/smsc.js`).
//!
//! It needs `node` and the `smpp` package in `tests/smsc/node_modules`; [`TestSmsc::start`]
//! runs `npm ci` there first when the package is missing (under a file lock, since test
//! processes run in parallel). [`TestSmsc::start_or_skip`] turns a missing `node` into a
//! skipped test on a developer's machine and into a failure when `CI=true`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::sms::smpp::SmppConfig;

/// Credentials the test SMSC accepts unless started with others.
pub const SMSC_SYSTEM_ID: &str = "recado";
pub const SMSC_PASSWORD: &str = "secret";

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running test SMSC; the process is killed when this is dropped.
#[derive(Debug)]
pub struct TestSmsc {
    child: Child,
    pub smpp_port: u16,
    pub control_port: u16,
    http: reqwest::Client,
}

impl TestSmsc {
    /// Folder of the SMSC script and its `package.json`.
    pub fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("smsc")
    }

    /// Makes sure `node` runs and the `smpp` package is installed (`npm ci`).
    pub fn ensure_installed() -> Result<(), String> {
        let node = std::process::Command::new("node")
            .arg("--version")
            .output()
            .map_err(|e| format!("`node` cannot be run: {e}"))?;
        if !node.status.success() {
            return Err("`node --version` failed".into());
        }
        let dir = Self::dir();
        if dir.join("node_modules/smpp/package.json").exists() {
            return Ok(());
        }
        // One installer at a time; the others find the package there once they get the lock.
        let status = std::process::Command::new("flock")
            .arg(dir.join(".install.lock"))
            .args([
                "sh",
                "-c",
                "test -f node_modules/smpp/package.json || npm ci --no-audit --no-fund --loglevel=error",
            ])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run `flock … npm ci` in {}: {e}", dir.display()))?;
        if !status.success() || !dir.join("node_modules/smpp/package.json").exists() {
            return Err(format!("`npm ci` in {} failed ({status})", dir.display()));
        }
        Ok(())
    }

    /// Installs if needed, starts the SMSC with `args` (see `smsc.js`) and waits until it
    /// listens.
    pub async fn start(args: &[&str]) -> Result<TestSmsc, String> {
        tokio::task::spawn_blocking(Self::ensure_installed)
            .await
            .map_err(|e| e.to_string())??;
        let mut child = Command::new("node")
            .arg(Self::dir().join("smsc.js"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the test SMSC: {e}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(START_TIMEOUT, lines.next_line())
            .await
            .map_err(|_| "the test SMSC did not start in time".to_string())?
            .map_err(|e| e.to_string())?
            .ok_or("the test SMSC exited before it was ready")?;
        let ready: Value = serde_json::from_str(&first).map_err(|e| format!("{e}: {first}"))?;
        let port = |name: &str| {
            ready[name]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .ok_or(format!("no {name} in {first}"))
        };
        Ok(TestSmsc {
            smpp_port: port("smpp_port")?,
            control_port: port("control_port")?,
            child,
            http: reqwest::Client::new(),
        })
    }

    /// [`start`](Self::start), or `None` with a note on stderr when the SMSC cannot run here;
    /// panics instead when `CI=true`, where a skipped interop test would hide a broken set-up.
    pub async fn start_or_skip(args: &[&str]) -> Option<TestSmsc> {
        match Self::start(args).await {
            Ok(smsc) => Some(smsc),
            Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("the test SMSC is required when CI=true: {e}")
            }
            Err(e) => {
                eprintln!("skipped: the test SMSC cannot run here: {e}");
                None
            }
        }
    }

    /// An ESME configuration for this SMSC with short timeouts and back-off for tests.
    pub fn esme_config(&self) -> SmppConfig {
        let mut config = SmppConfig::new("127.0.0.1", self.smpp_port, SMSC_SYSTEM_ID, SMSC_PASSWORD);
        config.response_timeout_secs = 5;
        config.reconnect_min_ms = 50;
        config.reconnect_max_ms = 500;
        config
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.control_port)
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("control API answers")
            .json()
            .await
            .expect("control API returns JSON")
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("control API answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("control API returns JSON"))
    }

    /// Every PDU the SMSC received, in order (see `record()` in `smsc.js` for the fields).
    pub async fn pdus(&self) -> Vec<Value> {
        self.get("/pdus").await["pdus"].as_array().cloned().unwrap_or_default()
    }

    /// The received PDUs of one command (`submit_sm`, `bind_transceiver`, …).
    pub async fn pdus_of(&self, command: &str) -> Vec<Value> {
        self.pdus()
            .await
            .into_iter()
            .filter(|p| p["command"] == command)
            .collect()
    }

    /// Counters: sessions, binds, submits, receipts sent and acknowledged, MO, drops.
    pub async fn stats(&self) -> Value {
        self.get("/stats").await
    }

    /// Sends an MO message (`{"from","to","text"}`, optionally `data_coding`, or `parts` to
    /// send it concatenated); false when no ESME is bound.
    pub async fn send_mo(&self, body: Value) -> bool {
        self.post("/mo", body).await.0 == 200
    }

    /// Drops every connection; returns how many there were.
    pub async fn drop_connections(&self) -> u64 {
        self.post("/drop", json!({})).await.1["dropped"].as_u64().unwrap_or(0)
    }

    /// Changes the SMSC's behaviour (`receipts`, `receipt_delay_ms`, `receipt_tlvs`, `record`,
    /// `respond_delay_ms`, `reject: [{"count", "status"}]`).
    pub async fn configure(&self, body: Value) {
        let (status, answer) = self.post("/config", body).await;
        assert_eq!(status, 200, "{answer}");
    }

    /// Process id of the SMSC (for CPU accounting in benchmarks).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the SMSC now.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
