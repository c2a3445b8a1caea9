//! Settings of one SMPP account.

/// Interface version announced in the bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SmppVersion {
    /// SMPP 3.4 (`0x34`), what most SMSCs speak.
    #[default]
    #[serde(rename = "3.4")]
    V34,
    /// SMPP 5.0 (`0x50`).
    #[serde(rename = "5.0")]
    V50,
}

impl SmppVersion {
    /// The `interface_version` octet.
    pub fn octet(self) -> u8 {
        match self {
            SmppVersion::V34 => 0x34,
            SmppVersion::V50 => 0x50,
        }
    }
}

/// How to reach and use the SMSC.
#[derive(Clone, PartialEq, Eq)]
pub struct SmppConfig {
    pub host: String,
    pub port: u16,
    /// At most 15 characters (SMPP `system_id`).
    pub system_id: String,
    /// At most 8 characters (SMPP `password`).
    pub password: String,
    /// Often empty; some SMSCs route or bill by it. At most 12 characters.
    pub system_type: String,
    pub interface_version: SmppVersion,
    /// Most `submit_sm` waiting for their response at once.
    pub window: usize,
    /// Most `submit_sm` per second, as the SMSC account allows; 0 = no limit.
    pub throughput_per_sec: u32,
    /// Seconds without traffic from the SMSC before an `enquire_link` checks the link.
    pub enquire_link_secs: u64,
    /// Seconds to wait for any response (bind, submit, enquire_link) before giving up on it.
    pub response_timeout_secs: u64,
    /// First reconnect delay; doubles after each failed attempt up to `reconnect_max_ms`.
    pub reconnect_min_ms: u64,
    pub reconnect_max_ms: u64,
}

pub const DEFAULT_WINDOW: usize = 10;
pub const DEFAULT_ENQUIRE_LINK_SECS: u64 = 30;
pub const DEFAULT_RESPONSE_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_RECONNECT_MIN_MS: u64 = 1_000;
pub const DEFAULT_RECONNECT_MAX_MS: u64 = 60_000;

impl SmppConfig {
    /// An account with the default window, keep-alive, timeouts and back-off, SMPP 3.4.
    pub fn new(host: impl Into<String>, port: u16, system_id: impl Into<String>, password: impl Into<String>) -> Self {
        SmppConfig {
            host: host.into(),
            port,
            system_id: system_id.into(),
            password: password.into(),
            system_type: String::new(),
            interface_version: SmppVersion::V34,
            window: DEFAULT_WINDOW,
            throughput_per_sec: 0,
            enquire_link_secs: DEFAULT_ENQUIRE_LINK_SECS,
            response_timeout_secs: DEFAULT_RESPONSE_TIMEOUT_SECS,
            reconnect_min_ms: DEFAULT_RECONNECT_MIN_MS,
            reconnect_max_ms: DEFAULT_RECONNECT_MAX_MS,
        }
    }

    pub(crate) fn response_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.response_timeout_secs.max(1))
    }

    /// Checks what the bind would otherwise refuse, so a wrong setting is reported once and
    /// clearly instead of as an endless series of failed binds.
    pub fn validate(&self) -> Result<(), String> {
        let ascii = |name: &str, value: &str, max: usize| {
            if !value.is_ascii() || value.contains('\0') {
                Err(format!("{name} must be ASCII without NUL"))
            } else if value.len() > max {
                Err(format!("{name} has at most {max} characters"))
            } else {
                Ok(())
            }
        };
        ascii("system_id", &self.system_id, 15)?;
        ascii("password", &self.password, 8)?;
        ascii("system_type", &self.system_type, 12)?;
        if self.host.is_empty() {
            return Err("host is empty".into());
        }
        if self.reconnect_min_ms > self.reconnect_max_ms {
            return Err("reconnect_min_ms is above reconnect_max_ms".into());
        }
        Ok(())
    }
}

/// The password never appears in logs or panics.
impl std::fmt::Debug for SmppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmppConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("system_type", &self.system_type)
            .field("interface_version", &self.interface_version)
            .field("window", &self.window)
            .field("throughput_per_sec", &self.throughput_per_sec)
            .field("enquire_link_secs", &self.enquire_link_secs)
            .field("response_timeout_secs", &self.response_timeout_secs)
            .field("reconnect_min_ms", &self.reconnect_min_ms)
            .field("reconnect_max_ms", &self.reconnect_max_ms)
            .finish()
    }
}
