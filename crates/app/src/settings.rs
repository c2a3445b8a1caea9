//! The validated settings the hub runs with (loaded and layered by the
//! binary: defaults, `recado.toml`, `RECADO_*`, flags).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// A value that must never be printed (tokens, keys, a database URL with its
/// password): `Debug` shows `Secret(***)`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How much work a password hash costs. The hub always uses `Standard`
/// (argon2id defaults); the test suite hashes hundreds of passwords and uses
/// `Minimal`. A hash records its own parameters, so either verifies alike.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PasswordCost {
    #[default]
    Standard,
    Minimal,
}

/// Shortest password accepted for web sign-in.
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; may hold a password, so never printed.
    pub database_url: Secret,
    pub public_url: String,
    pub admin_token: Option<Secret>,
    /// Web sign-in password of the first admin (empty database only); else
    /// one is generated and printed once.
    pub admin_password: Option<Secret>,
    /// Key for provider secrets at rest (base64, 32 bytes); else `secret.key`
    /// in the data directory.
    pub secret_key: Option<Secret>,
    /// ISO country used for national numbers when a contact gives no hint; set
    /// on the `default` workspace at first start.
    pub default_country: Option<String>,
    /// Whether this process runs the job workers (several nodes may share the work).
    pub workers: usize,
    /// Largest request body accepted by the API, in bytes.
    pub max_body_bytes: usize,
    /// Logs as JSON lines instead of text.
    pub log_json: bool,
    /// Work per password hash: always standard, minimal only in tests.
    pub password_cost: PasswordCost,
    /// Where admins' notification e-mails are sent from, if anywhere.
    pub smtp: Option<SmtpSettings>,
}

/// The SMTP server of notification e-mails.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    /// `smtp://[user:password@]host[:port]` (STARTTLS when offered),
    /// `smtps://…` (TLS), or `…?tls=required`; may hold a password.
    pub url: Secret,
    /// The `From` of every e-mail.
    pub from: String,
}

impl Settings {
    /// Settings for tests: loopback on a free port, no workers (tests drive
    /// the queue), cheap password hashes.
    pub fn for_tests(database_url: &str, data_dir: PathBuf) -> Settings {
        Settings {
            listen: "127.0.0.1:0".parse().expect("loopback address"),
            data_dir,
            database_url: Secret::new(database_url),
            public_url: "http://127.0.0.1".to_string(),
            admin_token: None,
            admin_password: None,
            secret_key: None,
            default_country: None,
            workers: 0,
            max_body_bytes: 2 * 1024 * 1024,
            log_json: false,
            password_cost: PasswordCost::Minimal,
            smtp: None,
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose().starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_url_never_shows_in_debug_output() {
        let s = Settings::for_tests("postgres://recado:hunter2@db/recado", PathBuf::from("/tmp"));
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
