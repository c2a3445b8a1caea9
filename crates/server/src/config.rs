//! Settings, layered: defaults, then `recado.toml` (or `--config`), then
//! `RECADO_*` environment variables, then command-line flags. Validated once at
//! start so a bad setting stops the hub with a clear message instead of
//! failing later.

use serde::Deserialize;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use recado_app::settings::{PasswordCost, Secret, Settings, MIN_PASSWORD_CHARS};

/// What any layer may set; `None` leaves the value of the layer below.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub default_country: Option<String>,
    pub workers: Option<usize>,
    pub max_body_bytes: Option<usize>,
    pub log_json: Option<bool>,
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
}

impl Overrides {
    fn over(self, top: Overrides) -> Overrides {
        Overrides {
            listen: top.listen.or(self.listen),
            data_dir: top.data_dir.or(self.data_dir),
            database_url: top.database_url.or(self.database_url),
            public_url: top.public_url.or(self.public_url),
            default_country: top.default_country.or(self.default_country),
            workers: top.workers.or(self.workers),
            max_body_bytes: top.max_body_bytes.or(self.max_body_bytes),
            log_json: top.log_json.or(self.log_json),
            smtp_url: top.smtp_url.or(self.smtp_url),
            smtp_from: top.smtp_from.or(self.smtp_from),
        }
    }

    /// The `RECADO_*` variables of `env`.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Overrides, ConfigError> {
        let parse_num = |name: &str| -> Result<Option<usize>, ConfigError> {
            env(name)
                .map(|v| {
                    v.trim()
                        .parse()
                        .map_err(|_| ConfigError::Invalid(format!("{name} must be a whole number, got `{v}`")))
                })
                .transpose()
        };
        Ok(Overrides {
            listen: env("RECADO_LISTEN"),
            data_dir: env("RECADO_DATA_DIR").map(PathBuf::from),
            database_url: env("RECADO_DATABASE_URL"),
            public_url: env("RECADO_PUBLIC_URL"),
            default_country: env("RECADO_DEFAULT_COUNTRY"),
            workers: parse_num("RECADO_WORKERS")?,
            max_body_bytes: parse_num("RECADO_MAX_BODY_BYTES")?,
            log_json: env("RECADO_LOG_JSON").map(|v| matches!(v.as_str(), "1" | "true" | "yes")),
            smtp_url: env("RECADO_SMTP_URL"),
            smtp_from: env("RECADO_SMTP_FROM"),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0} is not valid: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error("{0}")]
    Invalid(String),
}

/// Builds the settings from every layer. `config_path` is the `--config` flag;
/// `RECADO_CONFIG` and `./recado.toml` (when present) come next.
pub fn load(
    config_path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    flags: Overrides,
) -> Result<Settings, ConfigError> {
    let file_path = config_path
        .map(Path::to_path_buf)
        .or_else(|| env("RECADO_CONFIG").map(PathBuf::from));
    let file = match file_path {
        Some(path) => read_file(&path)?,
        None if Path::new("recado.toml").exists() => read_file(Path::new("recado.toml"))?,
        None => Overrides::default(),
    };
    let merged = Overrides::default()
        .over(file)
        .over(Overrides::from_env(env)?)
        .over(flags);
    let listen_text = merged.listen.unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listen: SocketAddr = listen_text
        .parse()
        .map_err(|_| ConfigError::Invalid(format!("listen address `{listen_text}` must look like 127.0.0.1:8080")))?;
    let data_dir = merged.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
    let database_url = merged
        .database_url
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("recado.db").display()));
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        return Err(ConfigError::Invalid(format!(
            "database URL must start with sqlite:// or postgres://, got `{database_url}`"
        )));
    }
    let public_url = merged
        .public_url
        .unwrap_or_else(|| format!("http://{listen}"))
        .trim_end_matches('/')
        .to_string();
    if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
        return Err(ConfigError::Invalid(format!(
            "public URL must start with http:// or https://, got `{public_url}`"
        )));
    }
    let default_country = merged
        .default_country
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    if let Some(c) = &default_country {
        if recado_core::phone::calling_code_of(c).is_none() {
            return Err(ConfigError::Invalid(format!(
                "default country `{c}` is not an ISO 3166-1 alpha-2 code"
            )));
        }
    }
    let admin_password = env("RECADO_ADMIN_PASSWORD").filter(|t| !t.trim().is_empty());
    if admin_password
        .as_ref()
        .is_some_and(|p| p.chars().count() < MIN_PASSWORD_CHARS)
    {
        return Err(ConfigError::Invalid(format!(
            "RECADO_ADMIN_PASSWORD has fewer than {} characters",
            MIN_PASSWORD_CHARS
        )));
    }
    let smtp = match merged.smtp_url.filter(|u| !u.trim().is_empty()) {
        Some(url) => {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(ConfigError::Invalid(
                    "SMTP URL must start with smtp:// or smtps://".to_string(),
                ));
            }
            let from = merged.smtp_from.unwrap_or_else(|| "recado@localhost".to_string());
            if !from.contains('@') {
                return Err(ConfigError::Invalid(format!(
                    "SMTP from address `{from}` is not an e-mail address"
                )));
            }
            Some(recado_app::settings::SmtpSettings {
                url: Secret::new(url),
                from,
            })
        }
        None => None,
    };
    Ok(Settings {
        smtp,
        listen,
        data_dir,
        database_url: Secret::new(database_url),
        public_url,
        admin_token: env("RECADO_ADMIN_TOKEN")
            .filter(|t| !t.trim().is_empty())
            .map(Secret::new),
        admin_password: admin_password.map(Secret::new),
        secret_key: env("RECADO_SECRET_KEY")
            .filter(|t| !t.trim().is_empty())
            .map(Secret::new),
        default_country,
        workers: merged.workers.unwrap_or(2),
        max_body_bytes: merged.max_body_bytes.unwrap_or(2 * 1024 * 1024),
        log_json: merged.log_json.unwrap_or(false),
        password_cost: PasswordCost::Standard,
    })
}

fn read_file(path: &Path) -> Result<Overrides, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_path_buf(), e))?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse(path.to_path_buf(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = load(None, &env_of(&[]), Overrides::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert_eq!(s.database_url.expose(), "sqlite://./data/recado.db");
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert!(s.admin_token.is_none());
    }

    #[test]
    fn flags_beat_environment_which_beats_the_file() {
        let dir = std::env::temp_dir().join(format!("recado-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("recado.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:7000\"\ndata_dir = \"/srv/file\"\npublic_url = \"https://file.example\"\n",
        )
        .unwrap();
        let env = env_of(&[
            ("RECADO_DATA_DIR", "/srv/env"),
            ("RECADO_PUBLIC_URL", "https://env.example/"),
        ]);
        let flags = Overrides {
            public_url: Some("https://flag.example".into()),
            ..Default::default()
        };
        let s = load(Some(&file), &env, flags).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(s.data_dir, PathBuf::from("/srv/env"));
        assert_eq!(s.database_url.expose(), "sqlite:///srv/env/recado.db");
        assert_eq!(s.public_url, "https://flag.example");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn bad_settings_are_refused_with_a_clear_message() {
        let err = load(None, &env_of(&[("RECADO_LISTEN", "localhost")]), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("listen address"));
        let err = load(
            None,
            &env_of(&[("RECADO_DATABASE_URL", "mysql://x")]),
            Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("database URL"));
        let err = load(None, &env_of(&[("RECADO_DEFAULT_COUNTRY", "XX")]), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("default country"));
        let err = load(
            None,
            &env_of(&[("RECADO_ADMIN_PASSWORD", "short")]),
            Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("RECADO_ADMIN_PASSWORD"));
    }

    #[test]
    fn admin_token_and_password_are_read_from_the_environment_and_never_printed() {
        let s = load(
            None,
            &env_of(&[
                ("RECADO_ADMIN_TOKEN", "s3cret-token"),
                ("RECADO_ADMIN_PASSWORD", "s3cret-password"),
            ]),
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.admin_token.as_ref().unwrap().expose(), "s3cret-token");
        assert_eq!(s.admin_password.as_ref().unwrap().expose(), "s3cret-password");
        assert!(!format!("{s:?}").contains("s3cret-token"));
        assert!(!format!("{s:?}").contains("s3cret-password"));
    }

    #[test]
    fn the_smtp_server_of_notification_emails_is_read_from_the_environment() {
        let s = load(
            None,
            &env_of(&[
                ("RECADO_SMTP_URL", "smtp://mailer:pw@127.0.0.1:2525"),
                ("RECADO_SMTP_FROM", "hub@example.com"),
            ]),
            Overrides::default(),
        )
        .unwrap();
        let smtp = s.smtp.as_ref().expect("mail configured");
        assert_eq!(
            (smtp.url.expose(), smtp.from.as_str()),
            ("smtp://mailer:pw@127.0.0.1:2525", "hub@example.com")
        );
        assert!(!format!("{s:?}").contains("mailer:pw"), "the URL may hold a password");
        assert!(load(None, &env_of(&[]), Overrides::default()).unwrap().smtp.is_none());
        let err = load(
            None,
            &env_of(&[("RECADO_SMTP_URL", "http://mail")]),
            Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("SMTP URL"));
    }
}
