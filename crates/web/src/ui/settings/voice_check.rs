//! The test button of a voice channel: the sandbox says it is offline; an
//! Asterisk is asked for its version over ARI (wrong credentials come back
//! as its 401); a TwiML-style provider is asked for a call that cannot
//! exist, which good credentials answer with "not found" and wrong ones
//! with the provider's refusal. Nothing is dialled.

use recado_app::channels::check::Checked;
use recado_app::channels::registry::decode_voice;
use recado_app::channels::voice_config::VoiceProviderSettings;
use recado_app::AppState;
use recado_channels::voice::asterisk::{AriClient, AsteriskConfig};
use recado_channels::voice::twiml::{CallError, CallSid, CallsClient, TwimlConfig};
use recado_store::channels::ChannelRecord;
use std::time::Duration;

/// How long the provider may take to answer the test.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A call id no provider has: asking for it proves the credentials only.
const NO_SUCH_CALL: &str = "CA00000000000000000000000000000000";

fn checked(ok: bool, line: String) -> Checked {
    Checked { ok, lines: vec![line] }
}

pub async fn test(state: &AppState, record: ChannelRecord) -> Checked {
    let channel = match decode_voice(state, record) {
        Ok(c) => c,
        Err(e) => return checked(false, format!("The stored settings cannot be read: {}", e.message)),
    };
    let mut result = match &channel.voice.provider {
        VoiceProviderSettings::Sandbox(_) => checked(
            true,
            "The voice sandbox is offline and always available: calls are simulated by the number's last digits \
             (…01 busy, …02 no answer, …03 failed, …1d presses key d, …99 hangs up)."
                .into(),
        ),
        VoiceProviderSettings::Asterisk(a) => {
            let config = AsteriskConfig::new(&a.ari_url, &a.ari_user, &a.ari_password, &a.app);
            let client = AriClient::new(state.http.clone(), config).with_timeout(TEST_TIMEOUT);
            match client.info().await {
                Ok(info) => checked(
                    true,
                    format!(
                        "Asterisk {} answered at {} (system {}).",
                        info.version, a.ari_url, info.entity_id
                    ),
                ),
                Err(e) => checked(false, format!("Asterisk at {} did not accept the test: {e}", a.ari_url)),
            }
        }
        VoiceProviderSettings::Http(h) => {
            let config = TwimlConfig {
                base_url: h.base_url.clone(),
                account_sid: h.account_sid.clone(),
                auth_token: h.auth_token.clone(),
            };
            let client = CallsClient::new(config, state.http.clone()).with_timeout(TEST_TIMEOUT);
            match client.fetch_call(&CallSid(NO_SUCH_CALL.into())).await {
                Ok(_) => checked(
                    true,
                    format!("The provider at {} accepted the credentials.", h.base_url),
                ),
                Err(CallError::Refused { code, .. }) if code == "not_found" => checked(
                    true,
                    format!(
                        "The provider at {} accepted the credentials of account {}.",
                        h.base_url, h.account_sid
                    ),
                ),
                Err(e @ CallError::Refused { .. }) => checked(false, format!("The provider refused: {e}")),
                Err(e) => checked(false, format!("The provider could not be asked: {e}")),
            }
        }
    };
    let ids = &channel.voice.caller_ids;
    result
        .lines
        .push(match (&channel.voice.default_caller_id, ids.is_empty()) {
            (Some(default), _) => format!(
                "Calls show {default} unless they name another of: {}.",
                if ids.is_empty() {
                    default.clone()
                } else {
                    ids.join(", ")
                }
            ),
            (None, true) => "No caller id is set: calls show the trunk's own number.".into(),
            (None, false) => format!("Caller ids: {}.", ids.join(", ")),
        });
    result
}
