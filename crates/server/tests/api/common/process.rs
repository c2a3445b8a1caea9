//! The real binary as a separate process: `recado serve` on a free port and a
//! given database, for crash and multi-node tests.

use super::remote::Remote;
use recado_store::testing::TestDatabase;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `recado serve` on `port` with `database_url`, its first admin
/// token being `token` (used when the database is empty), with `env` added
/// to its environment.
pub fn start_node(
    database_url: &str,
    data_dir: &std::path::Path,
    port: u16,
    token: &str,
    env: &[(&str, &str)],
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_recado"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            database_url,
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .env("RECADO_ADMIN_TOKEN", token)
        .envs(env.iter().copied())
        .env(
            "RECADO_LOG",
            if std::env::var("TEST_LOG").is_ok() {
                "info"
            } else {
                "warn"
            },
        )
        .stdout(Stdio::null())
        .stderr(if std::env::var("TEST_LOG").is_ok() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .die_with_parent()
        .spawn()
        .expect("start recado")
}

/// The hub binary as a crash test runs it: one database, data directory,
/// port, admin token and environment, so that after each SIGKILL it starts
/// again exactly as it first did.
pub struct HubBinary {
    database_url: String,
    pub data_dir: PathBuf,
    pub port: u16,
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    token: String,
    env: Vec<(String, String)>,
}

impl HubBinary {
    /// On `db` and `data_dir`, listening on a free port, with `token` as its
    /// first admin token. The test keeps `db` alive while the hub runs.
    pub fn new(db: &TestDatabase, data_dir: PathBuf, token: &str) -> HubBinary {
        let port = free_port();
        HubBinary {
            database_url: db.url.clone(),
            data_dir,
            port,
            base: format!("http://127.0.0.1:{port}"),
            token: token.to_string(),
            env: Vec::new(),
        }
    }

    /// Its own address as its public URL, so the callback and audio URLs it
    /// hands to providers and to Asterisk lead back to it.
    pub fn with_own_public_url(mut self) -> HubBinary {
        self.env.push(("RECADO_PUBLIC_URL".to_string(), self.base.clone()));
        self
    }

    /// A new `recado serve` process as configured.
    pub fn start(&self) -> Child {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        start_node(&self.database_url, &self.data_dir, self.port, &self.token, &env)
    }

    /// JSON calls to it with its admin token, through `client` (and its timeout).
    pub fn remote(&self, client: &reqwest::Client) -> Remote {
        Remote::with_client(&self.base, &self.token, client.clone())
    }
}

/// Starts `recado serve` with `args` added (e.g. `--demo`), the default log
/// level, and its standard output and error written to `log`.
pub fn start_logged_node(
    database_url: &str,
    data_dir: &std::path::Path,
    port: u16,
    token: &str,
    args: &[&str],
    log: &std::path::Path,
) -> Child {
    let file = std::fs::File::create(log).expect("create the log file");
    Command::new(env!("CARGO_BIN_EXE_recado"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            database_url,
        ])
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RECADO_ADMIN_TOKEN", token)
        .env_remove("RECADO_LOG")
        .stdout(file.try_clone().expect("clone the log file"))
        .stderr(file)
        .die_with_parent()
        .spawn()
        .expect("start recado")
}

/// Sends SIGTERM (the hub finishes the jobs in hand and stops) and waits.
#[allow(unsafe_code)]
pub fn stop_gracefully(child: &mut Child) {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits");
    // SAFETY: kill only signals the child process this test started.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let _ = child.wait();
}

trait DieWithParent {
    fn die_with_parent(&mut self) -> &mut Self;
}

impl DieWithParent for Command {
    /// The hub is killed when the test process dies, so a test that times
    /// out or panics leaves no server running against a dropped database.
    #[allow(unsafe_code)]
    fn die_with_parent(&mut self) -> &mut Self {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches only this process.
        unsafe {
            self.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
        }
    }
}

pub async fn wait_healthy(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("hub at {base} did not become healthy");
}

/// A fresh data directory under the system's temporary one.
pub fn temp_data_dir(prefix: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "{prefix}-{}",
        recado_core::ids::new_id(recado_core::ids::IdKind::Job)
    ))
}
