//! Channel kinds and their settings.

use crate::error::AppError;
use recado_core::whatsapp::MessagingTier;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    WhatsappCloud,
    Whatsapp360dialog,
    WhatsappSandbox,
}

impl ChannelKind {
    pub fn parse(s: &str) -> Option<ChannelKind> {
        match s {
            "whatsapp_cloud" => Some(ChannelKind::WhatsappCloud),
            "whatsapp_360dialog" => Some(ChannelKind::Whatsapp360dialog),
            "whatsapp_sandbox" => Some(ChannelKind::WhatsappSandbox),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::WhatsappCloud => "whatsapp_cloud",
            ChannelKind::Whatsapp360dialog => "whatsapp_360dialog",
            ChannelKind::WhatsappSandbox => "whatsapp_sandbox",
        }
    }

    /// The messaging channel this kind serves (`whatsapp`, `sms`, `voice`).
    pub fn channel(self) -> &'static str {
        "whatsapp"
    }
}

pub const MAX_PHONE_NUMBERS: usize = 25;
pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_GRAPH_VERSION: &str = "v23.0";
pub const DEFAULT_360DIALOG_URL: &str = "https://waba-v2.360dialog.io";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PhoneNumber {
    pub phone_number_id: String,
    pub display_phone_number: Option<String>,
}

/// A WhatsApp account's settings with its secrets (decrypted).
#[derive(Clone, Debug, PartialEq)]
pub struct WhatsAppChannel {
    pub kind: ChannelKind,
    pub waba_id: Option<String>,
    pub phone_numbers: Vec<PhoneNumber>,
    pub graph_base_url: String,
    pub graph_version: String,
    pub base_url: String,
    pub tier: MessagingTier,
    pub access_token: Option<String>,
    pub api_key: Option<String>,
    pub app_secret: String,
    pub verify_token: String,
}

fn text(config: &Map<String, Value>, key: &str) -> Result<Option<String>, AppError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Some(_) => Err(AppError::invalid(
            "invalid_config",
            format!("config.{key}"),
            format!("`{key}` must be a non-empty string"),
        )),
    }
}

fn required(config: &Map<String, Value>, key: &str) -> Result<String, AppError> {
    text(config, key)?.ok_or_else(|| {
        AppError::invalid(
            "invalid_config",
            format!("config.{key}"),
            format!("`{key}` is required"),
        )
    })
}

fn url(config: &Map<String, Value>, key: &str, default: &str) -> Result<String, AppError> {
    let value = text(config, key)?.unwrap_or_else(|| default.to_string());
    if !(value.starts_with("http://") || value.starts_with("https://")) {
        return Err(AppError::invalid(
            "invalid_config",
            format!("config.{key}"),
            format!("`{key}` must be an http(s) URL"),
        ));
    }
    Ok(value.trim_end_matches('/').to_string())
}

fn random_secret() -> String {
    crate::auth::generate_token().trim_start_matches("rcd_").to_string()
}

impl WhatsAppChannel {
    /// Reads and checks `config` of a new channel (or the merged config of an
    /// update; `previous` keeps secrets that the update leaves out).
    pub fn from_input(
        kind: ChannelKind,
        config: &Map<String, Value>,
        previous: Option<&WhatsAppChannel>,
    ) -> Result<Self, AppError> {
        let numbers_value = config.get("phone_numbers").cloned().unwrap_or(Value::Null);
        let mut phone_numbers: Vec<PhoneNumber> = match numbers_value {
            Value::Null => Vec::new(),
            v => serde_json::from_value(v).map_err(|e| {
                AppError::invalid(
                    "invalid_config",
                    "config.phone_numbers",
                    format!("phone_numbers must be a list of {{phone_number_id, display_phone_number}}: {e}"),
                )
            })?,
        };
        if phone_numbers.is_empty() {
            match (kind, previous) {
                (ChannelKind::WhatsappSandbox, _) => phone_numbers.push(PhoneNumber {
                    phone_number_id: "sandbox-1".into(),
                    display_phone_number: Some("+15550001111".into()),
                }),
                (_, Some(p)) if !config.contains_key("phone_numbers") => phone_numbers = p.phone_numbers.clone(),
                _ => {
                    return Err(AppError::invalid(
                        "invalid_config",
                        "config.phone_numbers",
                        "at least one phone number is required",
                    ))
                }
            }
        }
        if phone_numbers.len() > MAX_PHONE_NUMBERS {
            return Err(AppError::invalid(
                "too_many_phone_numbers",
                "config.phone_numbers",
                format!("a WhatsApp account has at most {MAX_PHONE_NUMBERS} phone numbers"),
            ));
        }
        for n in &phone_numbers {
            if n.phone_number_id.trim().is_empty() {
                return Err(AppError::invalid(
                    "invalid_config",
                    "config.phone_numbers",
                    "phone_number_id must not be empty",
                ));
            }
        }
        let mut ids: Vec<&str> = phone_numbers.iter().map(|n| n.phone_number_id.as_str()).collect();
        ids.sort();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(AppError::invalid(
                "invalid_config",
                "config.phone_numbers",
                "a phone number is listed twice",
            ));
        }
        let tier = match config.get("tier") {
            None | Some(Value::Null) => previous.map(|p| p.tier).unwrap_or(MessagingTier::Unverified),
            Some(Value::String(s)) => s.parse().map_err(|_| {
                AppError::invalid(
                    "invalid_config",
                    "config.tier",
                    "tier is one of unverified, 250, 2000, 10000, 100000, unlimited",
                )
            })?,
            Some(Value::Number(n)) => n
                .to_string()
                .parse()
                .map_err(|_| AppError::invalid("invalid_config", "config.tier", "unknown tier"))?,
            Some(_) => {
                return Err(AppError::invalid(
                    "invalid_config",
                    "config.tier",
                    "tier must be a string",
                ))
            }
        };
        let keep = |key: &str, old: Option<&String>| -> Result<Option<String>, AppError> {
            Ok(text(config, key)?.or_else(|| old.cloned()))
        };
        let access_token = keep("access_token", previous.and_then(|p| p.access_token.as_ref()))?;
        let api_key = keep("api_key", previous.and_then(|p| p.api_key.as_ref()))?;
        let app_secret = keep("app_secret", previous.map(|p| &p.app_secret))?;
        let verify_token = keep("verify_token", previous.map(|p| &p.verify_token))?;
        let missing = |key: &str| {
            AppError::invalid(
                "invalid_config",
                format!("config.{key}"),
                format!("`{key}` is required"),
            )
        };
        let (app_secret, verify_token) = match kind {
            ChannelKind::WhatsappCloud => {
                if access_token.is_none() {
                    return Err(missing("access_token"));
                }
                (
                    app_secret.ok_or_else(|| missing("app_secret"))?,
                    verify_token.ok_or_else(|| missing("verify_token"))?,
                )
            }
            // Deliveries are checked with `X-Hub-Signature-256` like the Cloud
            // API's, so the secret that signs them is required.
            ChannelKind::Whatsapp360dialog => {
                if api_key.is_none() {
                    return Err(missing("api_key"));
                }
                (
                    app_secret.ok_or_else(|| missing("app_secret"))?,
                    verify_token.unwrap_or_else(random_secret),
                )
            }
            ChannelKind::WhatsappSandbox => (
                app_secret.unwrap_or_else(random_secret),
                verify_token.unwrap_or_else(random_secret),
            ),
        };
        let waba_id = match kind {
            ChannelKind::WhatsappCloud => {
                Some(required(config, "waba_id").or_else(|e| previous.and_then(|p| p.waba_id.clone()).ok_or(e))?)
            }
            _ => text(config, "waba_id")?.or_else(|| previous.and_then(|p| p.waba_id.clone())),
        };
        Ok(WhatsAppChannel {
            kind,
            waba_id,
            phone_numbers,
            graph_base_url: url(
                config,
                "graph_base_url",
                previous
                    .map(|p| p.graph_base_url.as_str())
                    .unwrap_or(DEFAULT_GRAPH_BASE_URL),
            )?,
            graph_version: text(config, "graph_version")?.unwrap_or_else(|| {
                previous
                    .map(|p| p.graph_version.clone())
                    .unwrap_or_else(|| DEFAULT_GRAPH_VERSION.to_string())
            }),
            base_url: url(
                config,
                "base_url",
                previous.map(|p| p.base_url.as_str()).unwrap_or(DEFAULT_360DIALOG_URL),
            )?,
            tier,
            access_token,
            api_key,
            app_secret,
            verify_token,
        })
    }

    /// Settings that may be shown: everything but the secrets.
    pub fn public_config(&self) -> Value {
        let mut v = json!({
            "phone_numbers": self.phone_numbers,
            "tier": self.tier.as_str(),
        });
        let map = v.as_object_mut().expect("object");
        if let Some(w) = &self.waba_id {
            map.insert("waba_id".into(), json!(w));
        }
        match self.kind {
            ChannelKind::WhatsappCloud => {
                map.insert("graph_base_url".into(), json!(self.graph_base_url));
                map.insert("graph_version".into(), json!(self.graph_version));
            }
            ChannelKind::Whatsapp360dialog => {
                map.insert("base_url".into(), json!(self.base_url));
            }
            ChannelKind::WhatsappSandbox => {}
        }
        v
    }

    pub fn secrets(&self) -> Value {
        json!({
            "access_token": self.access_token,
            "api_key": self.api_key,
            "app_secret": self.app_secret,
            "verify_token": self.verify_token,
        })
    }

    /// Rebuilds the channel from its stored public config and decrypted secrets.
    pub fn from_stored(kind: ChannelKind, config: &Value, secrets: &Value) -> Result<Self, AppError> {
        let mut merged = config.as_object().cloned().unwrap_or_default();
        if let Some(s) = secrets.as_object() {
            for (k, v) in s {
                merged.insert(k.clone(), v.clone());
            }
        }
        Self::from_input(kind, &merged, None)
    }

    pub fn has_number(&self, phone_number_id: &str) -> bool {
        self.phone_numbers.iter().any(|n| n.phone_number_id == phone_number_id)
    }

    /// The client for this account's provider, or None for the sandbox.
    pub fn client(&self, http: &reqwest::Client) -> Option<recado_channels::whatsapp::WhatsAppClient> {
        use recado_channels::whatsapp::{Provider, WhatsAppClient};
        let provider = match self.kind {
            ChannelKind::WhatsappCloud => Provider::Cloud {
                graph_base_url: self.graph_base_url.clone(),
                graph_version: self.graph_version.clone(),
                access_token: self.access_token.clone().unwrap_or_default(),
            },
            ChannelKind::Whatsapp360dialog => Provider::Dialog360 {
                base_url: self.base_url.clone(),
                api_key: self.api_key.clone().unwrap_or_default(),
            },
            ChannelKind::WhatsappSandbox => return None,
        };
        Some(WhatsAppClient::new(provider, http.clone()))
    }
}
