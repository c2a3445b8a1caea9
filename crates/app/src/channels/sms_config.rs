//! SMS channel kinds and their settings: the built-in sandbox, a
//! Twilio-compatible HTTP provider, and an SMPP connection.

use crate::error::AppError;
use recado_sms::{validate_sender, Policy};
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsKind {
    Sandbox,
    Http,
    Smpp,
}

impl SmsKind {
    pub fn parse(s: &str) -> Option<SmsKind> {
        match s {
            "sms_sandbox" => Some(SmsKind::Sandbox),
            "sms_http" => Some(SmsKind::Http),
            "sms_smpp" => Some(SmsKind::Smpp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SmsKind::Sandbox => "sms_sandbox",
            SmsKind::Http => "sms_http",
            SmsKind::Smpp => "sms_smpp",
        }
    }
}

/// The sandbox's simulated network.
#[derive(Clone, Debug, PartialEq)]
pub struct SandboxSettings {
    /// Share of messages that end delivered (the rest not delivered).
    pub delivery_ratio: f64,
    /// Delay before the delivery receipt.
    pub latency_ms: u64,
    /// Error reported for undelivered messages.
    pub failure_code: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HttpSettings {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    pub messaging_service_sid: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SmppSettings {
    pub host: String,
    pub port: u16,
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    pub version: String,
    pub window: usize,
    pub throughput_per_sec: u32,
    pub enquire_link_secs: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SmsProviderSettings {
    Sandbox(SandboxSettings),
    Http(HttpSettings),
    Smpp(SmppSettings),
}

/// An SMS channel's settings with its secrets (decrypted).
#[derive(Clone, Debug, PartialEq)]
pub struct SmsChannel {
    pub kind: SmsKind,
    /// Senders this channel may use (numeric or alphanumeric); empty allows any valid sender.
    pub senders: Vec<String>,
    pub default_sender: Option<String>,
    pub policy: Policy,
    pub max_segments: u32,
    pub provider: SmsProviderSettings,
}

pub const DEFAULT_HTTP_BASE_URL: &str = "https://api.twilio.com";

pub(super) fn invalid(key: &str, message: impl Into<String>) -> AppError {
    AppError::invalid("invalid_config", format!("config.{key}"), message)
}

pub(super) fn text(config: &Map<String, Value>, key: &str) -> Result<Option<String>, AppError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        // An empty string means "not set" (e.g. an SMPP system_type left blank).
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(_) => Err(invalid(key, format!("`{key}` must be a string"))),
    }
}

fn number(config: &Map<String, Value>, key: &str) -> Result<Option<f64>, AppError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(invalid(key, format!("`{key}` must be a number"))),
    }
}

pub(super) fn whole(config: &Map<String, Value>, key: &str, min: f64, max: f64) -> Result<Option<u64>, AppError> {
    match number(config, key)? {
        None => Ok(None),
        Some(v) if v.fract() == 0.0 && (min..=max).contains(&v) => Ok(Some(v as u64)),
        Some(_) => Err(invalid(
            key,
            format!("`{key}` must be a whole number from {min} to {max}"),
        )),
    }
}

fn sender(s: &str, field: &str) -> Result<String, AppError> {
    validate_sender(s)
        .map(|v| v.as_str().to_string())
        .map_err(|e| AppError::invalid("invalid_sender", field.to_string(), e.to_string()))
}

impl SmsChannel {
    /// Reads and checks `config`; `previous` keeps secrets an update leaves out.
    pub fn from_input(
        kind: SmsKind,
        config: &Map<String, Value>,
        previous: Option<&SmsChannel>,
    ) -> Result<Self, AppError> {
        let senders = match config.get("senders") {
            None | Some(Value::Null) => previous.map(|p| p.senders.clone()).unwrap_or_default(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| invalid("senders", "senders is a list of strings"))
                        .and_then(|s| sender(s, "config.senders"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(invalid("senders", "senders is a list of strings")),
        };
        let default_sender = match text(config, "default_sender")? {
            Some(s) => Some(sender(&s, "config.default_sender")?),
            None => previous
                .and_then(|p| p.default_sender.clone())
                .or_else(|| senders.first().cloned()),
        };
        let policy = match text(config, "policy")?.as_deref() {
            None => previous.map(|p| p.policy).unwrap_or_default(),
            Some("transliterate") => Policy::Transliterate,
            Some("auto") => Policy::Auto,
            Some(_) => return Err(invalid("policy", "policy is transliterate or auto")),
        };
        let max_segments = whole(config, "max_segments", 1.0, 255.0)?
            .map(|v| v as u32)
            .or(previous.map(|p| p.max_segments))
            .unwrap_or(5);
        let old = previous.map(|p| &p.provider);
        let provider = match kind {
            SmsKind::Sandbox => {
                let old = match old {
                    Some(SmsProviderSettings::Sandbox(s)) => Some(s),
                    _ => None,
                };
                let ratio = number(config, "delivery_ratio")?
                    .or(old.map(|o| o.delivery_ratio))
                    .unwrap_or(1.0);
                if !(0.0..=1.0).contains(&ratio) {
                    return Err(invalid("delivery_ratio", "delivery_ratio is between 0.0 and 1.0"));
                }
                SmsProviderSettings::Sandbox(SandboxSettings {
                    delivery_ratio: ratio,
                    latency_ms: whole(config, "latency_ms", 0.0, 3_600_000.0)?
                        .or(old.map(|o| o.latency_ms))
                        .unwrap_or(0),
                    failure_code: text(config, "failure_code")?
                        .or(old.map(|o| o.failure_code.clone()))
                        .unwrap_or_else(|| "30006".into()),
                })
            }
            SmsKind::Http => {
                let old = match old {
                    Some(SmsProviderSettings::Http(s)) => Some(s),
                    _ => None,
                };
                let base_url = text(config, "base_url")?
                    .or(old.map(|o| o.base_url.clone()))
                    .unwrap_or_else(|| DEFAULT_HTTP_BASE_URL.into());
                if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                    return Err(invalid("base_url", "base_url must be an http(s) URL"));
                }
                SmsProviderSettings::Http(HttpSettings {
                    base_url: base_url.trim_end_matches('/').to_string(),
                    account_sid: text(config, "account_sid")?
                        .or(old.map(|o| o.account_sid.clone()))
                        .ok_or_else(|| invalid("account_sid", "`account_sid` is required"))?,
                    auth_token: text(config, "auth_token")?
                        .or(old.map(|o| o.auth_token.clone()))
                        .ok_or_else(|| invalid("auth_token", "`auth_token` is required"))?,
                    messaging_service_sid: text(config, "messaging_service_sid")?
                        .or(old.and_then(|o| o.messaging_service_sid.clone())),
                })
            }
            SmsKind::Smpp => {
                let old = match old {
                    Some(SmsProviderSettings::Smpp(s)) => Some(s),
                    _ => None,
                };
                let version = text(config, "version")?
                    .or(old.map(|o| o.version.clone()))
                    .unwrap_or_else(|| "3.4".into());
                if version != "3.4" && version != "5.0" {
                    return Err(invalid("version", "version is 3.4 or 5.0"));
                }
                SmsProviderSettings::Smpp(SmppSettings {
                    host: text(config, "host")?
                        .or(old.map(|o| o.host.clone()))
                        .ok_or_else(|| invalid("host", "`host` is required"))?,
                    port: whole(config, "port", 1.0, 65535.0)?
                        .map(|p| p as u16)
                        .or(old.map(|o| o.port))
                        .unwrap_or(2775),
                    system_id: text(config, "system_id")?
                        .or(old.map(|o| o.system_id.clone()))
                        .ok_or_else(|| invalid("system_id", "`system_id` is required"))?,
                    password: text(config, "password")?
                        .or(old.map(|o| o.password.clone()))
                        .unwrap_or_default(),
                    system_type: text(config, "system_type")?
                        .or(old.map(|o| o.system_type.clone()))
                        .unwrap_or_default(),
                    version,
                    window: whole(config, "window", 1.0, 1000.0)?
                        .map(|v| v as usize)
                        .or(old.map(|o| o.window))
                        .unwrap_or(10),
                    throughput_per_sec: whole(config, "throughput_per_sec", 0.0, 100_000.0)?
                        .map(|v| v as u32)
                        .or(old.map(|o| o.throughput_per_sec))
                        .unwrap_or(0),
                    enquire_link_secs: whole(config, "enquire_link_secs", 5.0, 3600.0)?
                        .or(old.map(|o| o.enquire_link_secs))
                        .unwrap_or(30),
                })
            }
        };
        Ok(SmsChannel {
            kind,
            senders,
            default_sender,
            policy,
            max_segments,
            provider,
        })
    }

    /// Settings that may be shown: everything but the secrets.
    pub fn public_config(&self) -> Value {
        let policy = match self.policy {
            Policy::Transliterate => "transliterate",
            Policy::Auto => "auto",
        };
        let mut v = json!({ "senders": self.senders, "default_sender": self.default_sender, "policy": policy, "max_segments": self.max_segments });
        let map = v.as_object_mut().expect("object");
        match &self.provider {
            SmsProviderSettings::Sandbox(s) => {
                map.insert("delivery_ratio".into(), json!(s.delivery_ratio));
                map.insert("latency_ms".into(), json!(s.latency_ms));
                map.insert("failure_code".into(), json!(s.failure_code));
            }
            SmsProviderSettings::Http(h) => {
                map.insert("base_url".into(), json!(h.base_url));
                map.insert("account_sid".into(), json!(h.account_sid));
                map.insert("messaging_service_sid".into(), json!(h.messaging_service_sid));
            }
            SmsProviderSettings::Smpp(s) => {
                for (k, val) in [
                    ("host", json!(s.host)),
                    ("port", json!(s.port)),
                    ("system_id", json!(s.system_id)),
                    ("system_type", json!(s.system_type)),
                    ("version", json!(s.version)),
                    ("window", json!(s.window)),
                    ("throughput_per_sec", json!(s.throughput_per_sec)),
                    ("enquire_link_secs", json!(s.enquire_link_secs)),
                ] {
                    map.insert(k.into(), val);
                }
            }
        }
        v
    }

    pub fn secrets(&self) -> Value {
        match &self.provider {
            SmsProviderSettings::Sandbox(_) => json!({}),
            SmsProviderSettings::Http(h) => json!({ "auth_token": h.auth_token }),
            SmsProviderSettings::Smpp(s) => json!({ "password": s.password }),
        }
    }

    pub fn from_stored(kind: SmsKind, config: &Value, secrets: &Value) -> Result<Self, AppError> {
        let mut merged = config.as_object().cloned().unwrap_or_default();
        if let Some(s) = secrets.as_object() {
            for (k, v) in s {
                merged.insert(k.clone(), v.clone());
            }
        }
        // Stored settings were valid when written; `null` optional fields are normal.
        merged.retain(|_, v| !v.is_null());
        Self::from_input(kind, &merged, None)
    }

    /// The sender of a message: the one asked for (checked against the
    /// channel's list when it has one), else the channel's default.
    pub fn pick_sender(&self, asked: Option<&str>) -> Result<String, AppError> {
        let chosen = match asked {
            Some(s) => sender(s, "from")?,
            None => self.default_sender.clone().ok_or_else(|| {
                AppError::invalid(
                    "invalid_sender",
                    "from",
                    "name a sender: this channel has no default sender",
                )
            })?,
        };
        if !self.senders.is_empty() && !self.senders.contains(&chosen) {
            return Err(AppError::invalid(
                "invalid_sender",
                "from",
                format!("`{chosen}` is not one of this channel's senders"),
            ));
        }
        Ok(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn sandbox_defaults_deliver_everything_at_once() {
        let c = SmsChannel::from_input(SmsKind::Sandbox, &map(json!({"senders": ["Recado"]})), None).unwrap();
        assert_eq!(
            c.provider,
            SmsProviderSettings::Sandbox(SandboxSettings {
                delivery_ratio: 1.0,
                latency_ms: 0,
                failure_code: "30006".into()
            })
        );
        assert_eq!(c.default_sender.as_deref(), Some("Recado"));
        assert_eq!(c.max_segments, 5);
    }

    #[test]
    fn invalid_senders_and_ratios_are_refused_with_their_field() {
        let e = SmsChannel::from_input(SmsKind::Sandbox, &map(json!({"senders": ["ABCDEFGHIJKL"]})), None).unwrap_err();
        assert_eq!(e.code, "invalid_sender");
        let e = SmsChannel::from_input(SmsKind::Sandbox, &map(json!({"delivery_ratio": 1.5})), None).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("config.delivery_ratio"));
        let c = SmsChannel::from_input(SmsKind::Sandbox, &map(json!({"senders": ["Recado"]})), None).unwrap();
        assert_eq!(c.pick_sender(Some("+12ab")).unwrap_err().code, "invalid_sender");
        assert_eq!(c.pick_sender(Some("Other")).unwrap_err().code, "invalid_sender");
        assert_eq!(c.pick_sender(None).unwrap(), "Recado");
    }

    #[test]
    fn provider_secrets_are_kept_apart_from_public_settings() {
        let c = SmsChannel::from_input(
            SmsKind::Http,
            &map(json!({"account_sid": "AC1", "auth_token": "tok-secret"})),
            None,
        )
        .unwrap();
        assert!(!c.public_config().to_string().contains("tok-secret"));
        assert_eq!(c.secrets()["auth_token"], "tok-secret");
        let back = SmsChannel::from_stored(SmsKind::Http, &c.public_config(), &c.secrets()).unwrap();
        assert_eq!(back, c);
        assert_eq!(
            SmsChannel::from_input(SmsKind::Http, &map(json!({"account_sid": "AC1"})), None)
                .unwrap_err()
                .field
                .as_deref(),
            Some("config.auth_token")
        );
    }
}
