//! The channels page's "test": proves a channel works the way its kind can.
//! A WhatsApp account asks the provider about its first number (wrong
//! credentials come back as the provider's own error); an SMPP channel
//! reports its bind; any SMS channel can send a real test message to a
//! number the admin types, through the ordinary send path, so consent and
//! the sender rules apply as to any other send.

use super::registry::{decode, decode_sms, stored};
use super::sms_config::SmsProviderSettings;
use super::SmsKind;
use crate::messages::request::{send_requested, MessageInput};
use crate::{AppResult, AppState};
use recado_channels::whatsapp::SendError;

/// The text of a test SMS.
pub const TEST_TEXT: &str = "Recado test message: this SMS channel works.";

/// What a test found, in words for the admin.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub ok: bool,
    pub lines: Vec<String>,
}

impl Checked {
    fn ok(line: impl Into<String>) -> Checked {
        Checked {
            ok: true,
            lines: vec![line.into()],
        }
    }

    fn failed(line: impl Into<String>) -> Checked {
        Checked {
            ok: false,
            lines: vec![line.into()],
        }
    }

    fn and(mut self, other: Checked) -> Checked {
        self.ok &= other.ok;
        self.lines.extend(other.lines);
        self
    }
}

/// Tests channel `id`; `to` (SMS channels) also sends a test message there.
/// 404 for no such channel; a channel whose stored settings cannot be read
/// is reported, not raised.
pub async fn test(state: &AppState, workspace_id: &str, id: &str, to: Option<&str>) -> AppResult<Checked> {
    let record = stored(state, workspace_id, id).await?;
    if SmsKind::parse(&record.kind).is_some() {
        let channel = match decode_sms(state, record) {
            Ok(c) => c,
            Err(e) => {
                return Ok(Checked::failed(format!(
                    "The stored settings cannot be read: {}",
                    e.message
                )))
            }
        };
        let mut checked = match &channel.sms.provider {
            SmsProviderSettings::Smpp(s) => {
                if state.smpp.holds(&channel.record.id).await {
                    Checked::ok(format!(
                        "Bound to the SMSC at {}:{} as {}.",
                        s.host, s.port, s.system_id
                    ))
                } else {
                    Checked::failed(format!(
                        "Not bound to the SMSC at {}:{} from this node (another node may hold the bind, or the SMSC refuses it: see the last error).",
                        s.host, s.port
                    ))
                }
            }
            SmsProviderSettings::Http(h) => {
                Checked::ok(format!("Provider API at {} for account {}.", h.base_url, h.account_sid))
            }
            SmsProviderSettings::Sandbox(_) => Checked::ok("The SMS sandbox is offline and always available."),
        };
        if let Some(to) = to.map(str::trim).filter(|t| !t.is_empty()) {
            checked = checked.and(send_test_sms(state, workspace_id, &channel.record.id, to).await?);
        }
        return Ok(checked);
    }
    let channel = match decode(state, record) {
        Ok(c) => c,
        Err(e) => {
            return Ok(Checked::failed(format!(
                "The stored settings cannot be read: {}",
                e.message
            )))
        }
    };
    let Some(client) = channel.whatsapp.client(&state.http) else {
        return Ok(Checked::ok("The WhatsApp sandbox is simulated and always available."));
    };
    let Some(number) = channel.whatsapp.phone_numbers.first() else {
        return Ok(Checked::failed("The account has no phone number."));
    };
    Ok(match client.phone_number(&number.phone_number_id).await {
        Ok(answer) => {
            let shown = |key: &str| answer[key].as_str().unwrap_or("—").to_string();
            Checked::ok(format!(
                "The provider answered for {}: display number {}, verified name {}, quality {}.",
                number.phone_number_id,
                shown("display_phone_number"),
                shown("verified_name"),
                shown("quality_rating")
            ))
        }
        Err(SendError::Provider {
            http_status,
            code,
            message,
            details,
            ..
        }) => Checked::failed(format!(
            "The provider refused (HTTP {http_status}, error {code}): {}",
            details.unwrap_or(message)
        )),
        Err(e) => Checked::failed(format!("The provider could not be asked: {e}")),
    })
}

async fn send_test_sms(state: &AppState, workspace_id: &str, channel_id: &str, to: &str) -> AppResult<Checked> {
    let ws = state.store.workspace(workspace_id).await?;
    let input = MessageInput {
        channel: "sms".into(),
        contact_id: None,
        to: Some(to.to_string()),
        channel_id: Some(channel_id.to_string()),
        from: None,
        text: Some(TEST_TEXT.into()),
        template: None,
        media: None,
        interactive: None,
        campaign: None,
        policy: None,
        national_language: None,
        country: None,
        shorten_urls: None,
        utm: None,
        voice: None,
    };
    Ok(match send_requested(state, &ws, input).await {
        Ok(message) => Checked::ok(format!(
            "Test SMS {} to {} queued; its delivery shows on the contact's timeline.",
            message.id,
            message.recipient.as_deref().unwrap_or(to)
        )),
        Err(e) if !e.is_internal() => Checked::failed(format!("The test SMS was refused ({}): {}", e.code, e.message)),
        Err(e) => return Err(e),
    })
}
