//! Voice channel kinds and their settings (API.md "Voice"): the offline
//! sandbox, a company's own Asterisk over ARI, and a TwiML-style HTTP
//! provider (Twilio, Telnyx TeXML, SignalWire).

use super::sms_config::{invalid, text, whole};
use crate::error::AppError;
use recado_core::phone::looks_like_e164;
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoiceKind {
    Sandbox,
    Asterisk,
    Http,
}

impl VoiceKind {
    pub fn parse(s: &str) -> Option<VoiceKind> {
        match s {
            "voice_sandbox" => Some(VoiceKind::Sandbox),
            "voice_asterisk" => Some(VoiceKind::Asterisk),
            "voice_http" => Some(VoiceKind::Http),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VoiceKind::Sandbox => "voice_sandbox",
            VoiceKind::Asterisk => "voice_asterisk",
            VoiceKind::Http => "voice_http",
        }
    }
}

/// The sandbox's simulated network: how long a phone rings before the
/// outcome its number asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct SandboxSettings {
    pub ring_ms: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AsteriskSettings {
    /// ARI's base URL, such as `http://127.0.0.1:8088/ari`.
    pub ari_url: String,
    pub ari_user: String,
    pub ari_password: String,
    /// The Stasis application the hub's calls enter.
    pub app: String,
    /// The dial string with `{number}` for the E.164 number called.
    pub dial_template: String,
    pub max_cps: u32,
    pub max_concurrent: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HttpSettings {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    pub max_cps: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum VoiceProviderSettings {
    Sandbox(SandboxSettings),
    Asterisk(AsteriskSettings),
    Http(HttpSettings),
}

/// A voice channel's settings with its secrets (decrypted).
#[derive(Clone, Debug, PartialEq)]
pub struct VoiceChannel {
    pub kind: VoiceKind,
    /// Caller ids a call may show (E.164); empty allows only the default.
    pub caller_ids: Vec<String>,
    pub default_caller_id: Option<String>,
    pub provider: VoiceProviderSettings,
}

pub const DEFAULT_HTTP_BASE_URL: &str = "https://api.twilio.com";
pub const DEFAULT_ARI_APP: &str = "recado";

fn caller_id(s: &str, key: &str) -> Result<String, AppError> {
    let s = s.trim();
    if looks_like_e164(s) {
        Ok(s.to_string())
    } else {
        Err(invalid(
            key,
            format!("`{s}` is not an E.164 number such as +34910000000"),
        ))
    }
}

fn url(config: &Map<String, Value>, key: &str, previous: Option<&str>) -> Result<String, AppError> {
    let value = match text(config, key)? {
        Some(v) => v,
        None => previous
            .map(str::to_string)
            .ok_or_else(|| invalid(key, format!("`{key}` is required")))?,
    };
    match url::Url::parse(&value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(value.trim_end_matches('/').to_string())
        }
        _ => Err(invalid(key, format!("`{key}` must be an http(s) URL"))),
    }
}

fn required(config: &Map<String, Value>, key: &str, previous: Option<&str>) -> Result<String, AppError> {
    text(config, key)?
        .or_else(|| previous.map(str::to_string))
        .ok_or_else(|| invalid(key, format!("`{key}` is required")))
}

fn rate(
    config: &Map<String, Value>,
    key: &str,
    max: f64,
    previous: Option<u32>,
    default: u32,
) -> Result<u32, AppError> {
    Ok(whole(config, key, 1.0, max)?
        .map(|v| v as u32)
        .or(previous)
        .unwrap_or(default))
}

impl VoiceChannel {
    /// Reads and checks `config`; `previous` keeps what an update leaves out
    /// (secrets included).
    pub fn from_input(
        kind: VoiceKind,
        config: &Map<String, Value>,
        previous: Option<&VoiceChannel>,
    ) -> Result<Self, AppError> {
        let caller_ids = match config.get("caller_ids") {
            None | Some(Value::Null) => previous.map(|p| p.caller_ids.clone()).unwrap_or_default(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| invalid("caller_ids", "caller_ids is a list of E.164 numbers"))
                        .and_then(|s| caller_id(s, "caller_ids"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(invalid("caller_ids", "caller_ids is a list of E.164 numbers")),
        };
        let default_caller_id = match text(config, "default_caller_id")? {
            Some(s) => Some(caller_id(&s, "default_caller_id")?),
            None => previous
                .and_then(|p| p.default_caller_id.clone())
                .filter(|d| caller_ids.is_empty() || caller_ids.contains(d))
                .or_else(|| caller_ids.first().cloned()),
        };
        if let Some(default) = &default_caller_id {
            if !caller_ids.is_empty() && !caller_ids.contains(default) {
                return Err(invalid(
                    "default_caller_id",
                    "the default caller id must be one of caller_ids",
                ));
            }
        }
        let old = previous.map(|p| &p.provider);
        let provider = match kind {
            VoiceKind::Sandbox => {
                let old = match old {
                    Some(VoiceProviderSettings::Sandbox(s)) => Some(s.ring_ms),
                    _ => None,
                };
                let ring_ms = whole(config, "ring_ms", 0.0, 60_000.0)?.or(old).unwrap_or(0);
                VoiceProviderSettings::Sandbox(SandboxSettings { ring_ms })
            }
            VoiceKind::Asterisk => {
                let old = match old {
                    Some(VoiceProviderSettings::Asterisk(s)) => Some(s),
                    _ => None,
                };
                let dial_template = required(config, "dial_template", old.map(|o| o.dial_template.as_str()))?;
                if !dial_template.contains("{number}") {
                    return Err(invalid(
                        "dial_template",
                        "the dial string names the number called as {number}, e.g. PJSIP/{number}@trunk",
                    ));
                }
                VoiceProviderSettings::Asterisk(AsteriskSettings {
                    ari_url: url(config, "ari_url", old.map(|o| o.ari_url.as_str()))?,
                    ari_user: required(config, "ari_user", old.map(|o| o.ari_user.as_str()))?,
                    ari_password: required(config, "ari_password", old.map(|o| o.ari_password.as_str()))?,
                    app: text(config, "app")?
                        .or_else(|| old.map(|o| o.app.clone()))
                        .unwrap_or_else(|| DEFAULT_ARI_APP.to_string()),
                    dial_template,
                    max_cps: rate(config, "max_cps", 1000.0, old.map(|o| o.max_cps), 10)?,
                    max_concurrent: rate(config, "max_concurrent", 10_000.0, old.map(|o| o.max_concurrent), 50)?,
                })
            }
            VoiceKind::Http => {
                let old = match old {
                    Some(VoiceProviderSettings::Http(s)) => Some(s),
                    _ => None,
                };
                if caller_ids.is_empty() && default_caller_id.is_none() {
                    return Err(invalid(
                        "caller_ids",
                        "an HTTP voice provider calls from one of your numbers: list them in caller_ids",
                    ));
                }
                VoiceProviderSettings::Http(HttpSettings {
                    base_url: match text(config, "base_url")? {
                        Some(_) => url(config, "base_url", None)?,
                        None => old
                            .map(|o| o.base_url.clone())
                            .unwrap_or_else(|| DEFAULT_HTTP_BASE_URL.to_string()),
                    },
                    account_sid: required(config, "account_sid", old.map(|o| o.account_sid.as_str()))?,
                    auth_token: required(config, "auth_token", old.map(|o| o.auth_token.as_str()))?,
                    max_cps: rate(config, "max_cps", 1000.0, old.map(|o| o.max_cps), 1)?,
                })
            }
        };
        Ok(VoiceChannel {
            kind,
            caller_ids,
            default_caller_id,
            provider,
        })
    }

    pub fn public_config(&self) -> Value {
        let mut v = json!({ "caller_ids": self.caller_ids, "default_caller_id": self.default_caller_id });
        let map = v.as_object_mut().expect("an object");
        match &self.provider {
            VoiceProviderSettings::Sandbox(s) => {
                map.insert("ring_ms".into(), json!(s.ring_ms));
            }
            VoiceProviderSettings::Asterisk(a) => {
                for (k, value) in [
                    ("ari_url", json!(a.ari_url)),
                    ("ari_user", json!(a.ari_user)),
                    ("app", json!(a.app)),
                    ("dial_template", json!(a.dial_template)),
                    ("max_cps", json!(a.max_cps)),
                    ("max_concurrent", json!(a.max_concurrent)),
                ] {
                    map.insert(k.into(), value);
                }
            }
            VoiceProviderSettings::Http(h) => {
                map.insert("base_url".into(), json!(h.base_url));
                map.insert("account_sid".into(), json!(h.account_sid));
                map.insert("max_cps".into(), json!(h.max_cps));
            }
        }
        v
    }

    pub fn secrets(&self) -> Value {
        match &self.provider {
            VoiceProviderSettings::Sandbox(_) => json!({}),
            VoiceProviderSettings::Asterisk(a) => json!({ "ari_password": a.ari_password }),
            VoiceProviderSettings::Http(h) => json!({ "auth_token": h.auth_token }),
        }
    }

    pub fn from_stored(kind: VoiceKind, config: &Value, secrets: &Value) -> Result<Self, AppError> {
        let mut merged = config.as_object().cloned().unwrap_or_default();
        if let Some(s) = secrets.as_object() {
            merged.extend(s.clone());
        }
        merged.retain(|_, v| !v.is_null());
        Self::from_input(kind, &merged, None)
    }

    /// The caller id of a call: the one asked for (one of the channel's),
    /// else the channel's default; none when the channel has neither.
    pub fn pick_caller_id(&self, asked: Option<&str>) -> Result<Option<String>, AppError> {
        let refuse = |message: String| AppError::invalid("invalid_voice", "caller_id", message);
        match asked {
            Some(s) => {
                let s = s.trim();
                let allowed = self.caller_ids.iter().any(|c| c == s) || self.default_caller_id.as_deref() == Some(s);
                if allowed {
                    Ok(Some(s.to_string()))
                } else {
                    Err(refuse(format!("`{s}` is not one of this channel's caller ids")))
                }
            }
            None => Ok(self.default_caller_id.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_first_caller_id_is_the_default_when_none_is_named() {
        let c = VoiceChannel::from_input(
            VoiceKind::Sandbox,
            &map(json!({"caller_ids": ["+34910000000", "+34910000001"]})),
            None,
        )
        .unwrap();
        assert_eq!(c.default_caller_id.as_deref(), Some("+34910000000"));
        assert_eq!(c.pick_caller_id(None).unwrap().as_deref(), Some("+34910000000"));
        assert_eq!(
            c.pick_caller_id(Some("+34910000001")).unwrap().as_deref(),
            Some("+34910000001")
        );
    }

    #[test]
    fn a_caller_id_outside_the_channels_list_is_refused() {
        let c =
            VoiceChannel::from_input(VoiceKind::Sandbox, &map(json!({"caller_ids": ["+34910000000"]})), None).unwrap();
        let e = c.pick_caller_id(Some("+34919999999")).unwrap_err();
        assert_eq!(e.code, "invalid_voice");
        assert_eq!(e.field.as_deref(), Some("caller_id"));
    }

    #[test]
    fn an_asterisk_dial_string_must_name_the_number() {
        let e = VoiceChannel::from_input(
            VoiceKind::Asterisk,
            &map(json!({"ari_url": "http://127.0.0.1:8088/ari", "ari_user": "u", "ari_password": "p", "dial_template": "PJSIP/trunk"})),
            None,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("config.dial_template"));
    }

    #[test]
    fn voice_provider_secrets_are_kept_apart_from_public_settings() {
        let c = VoiceChannel::from_input(
            VoiceKind::Http,
            &map(json!({"account_sid": "AC1", "auth_token": "tok-secret", "caller_ids": ["+34910000000"]})),
            None,
        )
        .unwrap();
        assert!(!c.public_config().to_string().contains("tok-secret"));
        assert_eq!(c.secrets(), json!({"auth_token": "tok-secret"}));
        let back = VoiceChannel::from_stored(VoiceKind::Http, &c.public_config(), &c.secrets()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn an_http_voice_provider_needs_a_caller_id() {
        let e = VoiceChannel::from_input(
            VoiceKind::Http,
            &map(json!({"account_sid": "AC1", "auth_token": "t"})),
            None,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("config.caller_ids"));
    }
}
