//! Headless Debian Chromium driven through chromedriver (WebDriver) for the
//! browser tests: a fresh profile per browser, every process of that browser
//! ended on drop, screenshots under `target/screenshots/`.
//!
//! Chromium's helpers (crash handler, zygotes) detach from chromedriver. The
//! test process makes itself their subreaper, so they stay its children, and
//! ends them by pid (found by the browser's own profile directory) instead of
//! leaving them to the machine's init.

#![allow(dead_code)]
// Reaping and signalling process groups are libc calls.
#![allow(unsafe_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a page may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(15);

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The chromedriver and browser binaries, or None (with a notice) when they
/// are not installed. With `CI=true` a missing browser fails the test: CI
/// must run these tests, never skip them.
pub fn tools() -> Option<(PathBuf, PathBuf)> {
    let driver = find_program(&["chromedriver"]);
    let browser = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    match (driver, browser) {
        (Some(d), Some(b)) => Some((d, b)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("chromium and chromedriver are required when CI=true (scripts/install-test-deps installs them)")
        }
        _ => {
            eprintln!(
                "NOTICE: browser test skipped: chromium or chromedriver not found (run scripts/install-test-deps)"
            );
            None
        }
    }
}

/// One browser at a time: three headless browsers and their servers at
/// once starve a 2-core machine, and the tests gain nothing from it.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Browser {
    pub client: Client,
    _turn: tokio::sync::MutexGuard<'static, ()>,
    driver: Child,
    profile: PathBuf,
    screenshots: PathBuf,
    stopped: bool,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Where screenshots go: `<target dir>/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots")
}

impl Browser {
    /// Starts chromedriver and a headless browser; `javascript: false` turns
    /// scripts off to check that pages read without them.
    pub async fn start(driver: &Path, browser: &Path, javascript: bool) -> Browser {
        let turn = ONE_AT_A_TIME.lock().await;
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only changes who adopts
        // this process's orphaned descendants.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
        let port = free_port();
        let mut command = Command::new(driver);
        command
            .arg(format!("--port={port}"))
            // Never the test's stdin: the browser must not read what belongs to its parent.
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so that ending it ends the browser too.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        // Only stdio is handed down: descriptors the test process inherited
        // (a parent's pipes) must not reach the browser, which reuses fixed
        // descriptor numbers for its own channels.
        // SAFETY: the closure runs in the forked child before exec and only
        // calls close(2), which is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                for fd in 3..4096 {
                    libc::close(fd);
                }
                Ok(())
            });
        }
        let driver = command.spawn().expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on {port}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("recado-browser-{}-{port}", std::process::id()));
        let mut options = json!({
            "binary": browser,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1366,900", "--lang=en-GB",
                // The browser talks to the loopback hub only: no device discovery
                // on the network, no name lookups, no calls home.
                "--disable-features=MediaRouter,DialMediaRouteProvider,CastMediaRouteProvider,OptimizationHints,Translate,NetworkTimeServiceQuerying,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--disable-domain-reliability", "--no-pings", "--disable-client-side-phishing-detection",
                "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
                "--disable-breakpad", "--mute-audio",
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        if !javascript {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a browser session");
        let screenshots = screenshot_dir();
        std::fs::create_dir_all(&screenshots).expect("screenshot directory");
        Browser {
            client,
            _turn: turn,
            driver,
            profile,
            screenshots,
            stopped: false,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    pub async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    pub async fn text_of(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .expect("element text")
    }

    /// The current value of an element's attribute or property (`value`).
    pub async fn attribute(&self, css: &str, name: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .prop(name)
            .await
            .expect("element property")
            .unwrap_or_default()
    }

    pub async fn has(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.expect("query").is_empty()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        e.clear().await.expect("cleared");
        e.send_keys(text).await.expect("typed");
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .select_by_value(value)
            .await
            .expect("option chosen");
    }

    /// Waits until the page source contains `text` (live updates, redirects).
    pub async fn wait_for_text(&self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.source().await.contains(text) {
                return;
            }
            assert!(Instant::now() < deadline, "the page never showed {text:?}");
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    pub async fn wait_for(&self, css: &str) {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_string()
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.screenshots.join(format!("{name}.png")), png).expect("screenshot written");
    }

    /// The session cookie, for checks made outside the browser.
    pub async fn cookie_header(&self) -> String {
        self.client
            .get_all_cookies()
            .await
            .expect("cookies")
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn sign_in(&self, base: &str, email: &str, password: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#email", email).await;
        self.type_into("#password", password).await;
        self.click("#sign-in").await;
        self.wait_for("#view-nav").await;
    }

    /// Ends the browser at once: no graceful quit, which gains a test nothing.
    pub async fn close(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        // SAFETY: kill(2) on the process group this browser was started in.
        unsafe {
            libc::kill(-(self.driver.id() as i32), libc::SIGKILL);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        end_processes_using(&self.profile);
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Ends the processes whose command line names `profile` (this browser's
/// own), and reaps those that are this process's children.
fn end_processes_using(profile: &Path) {
    let needle = profile.to_string_lossy().to_string();
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if pid == me || !String::from_utf8_lossy(&cmdline).contains(&needle) {
            continue;
        }
        // SAFETY: plain kill(2) and waitpid(2) on one pid found above.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    // Reap the children that have ended (the browser's helpers, adopted).
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(50));
        // SAFETY: waitpid(2) without blocking; the status is not read.
        while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop();
    }
}
