//! What a voice message or an IVR call says and does (API.md "Voice"),
//! parsed strictly and validated on save: every refusal names the field at
//! fault (`narration.text`, `keys.1.to`, `retry.delay_s`, …), which the API
//! returns with 422 `invalid_voice`.
//!
//! What needs the workspace — the caller id against the channel's allowed
//! list, the SMS of a key against the SMS engine and the channel's senders —
//! is checked by the application; the shape and the rules of a call are here.

use super::call::{Millis, Retryable, Settings};
use super::ivr::{KeyAction, Menu, Then};
use super::Key;
use crate::phone::{calling_code_of, looks_like_e164};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The longest narration, in characters.
pub const MAX_NARRATION_CHARS: usize = 1_000;
/// The most plays of a menu a definition may ask for.
pub const MAX_MENU_PLAYS: u32 = 10;
/// The most attempts of a call, the first included.
pub const MAX_ATTEMPTS: u32 = 10;

/// Speech languages, by the API's tag, and the espeak-ng voice that speaks
/// each (`espeak-ng --voices` names them).
pub const LANGUAGES: [(&str, &str); 12] = [
    ("pt-BR", "pt-br"),
    ("pt-PT", "pt"),
    ("es", "es"),
    ("es-419", "es-419"),
    ("en", "en"),
    ("en-US", "en-us"),
    ("en-GB", "en-gb"),
    ("pl", "pl"),
    ("de", "de"),
    ("fr", "fr"),
    ("it", "it"),
    ("ca", "ca"),
];

/// A refusal and the field it is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// What the contact hears: text spoken by the speech engine, or a recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Narration {
    Tts {
        /// One of [`LANGUAGES`].
        language: String,
        /// `female` or `male`; the engine's default when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voice: Option<VoiceGender>,
        /// With `{{contact.*}}` tokens, filled per contact.
        text: String,
    },
    Audio {
        /// An `http(s)` URL the provider fetches.
        url: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceGender {
    Female,
    Male,
}

impl Narration {
    /// The espeak-ng voice of a spoken narration (`pt-br+f3`).
    pub fn espeak_voice(&self) -> Option<String> {
        let Narration::Tts { language, voice, .. } = self else {
            return None;
        };
        let base = LANGUAGES.iter().find(|(tag, _)| tag == language)?.1;
        Some(match voice {
            Some(VoiceGender::Female) => format!("{base}+f3"),
            Some(VoiceGender::Male) => format!("{base}+m3"),
            None => base.to_string(),
        })
    }

    fn check(&self, field: &str) -> Result<(), Invalid> {
        match self {
            Narration::Tts { language, text, .. } => {
                if !LANGUAGES.iter().any(|(tag, _)| tag == language) {
                    let known: Vec<&str> = LANGUAGES.iter().map(|(tag, _)| *tag).collect();
                    return Err(invalid(
                        format!("{field}.language"),
                        format!("`{language}` is not a speech language; use one of {}", known.join(", ")),
                    ));
                }
                if text.trim().is_empty() {
                    return Err(invalid(format!("{field}.text"), "write what the contact hears"));
                }
                let chars = text.chars().count();
                if chars > MAX_NARRATION_CHARS {
                    return Err(invalid(
                        format!("{field}.text"),
                        format!("{chars} characters; a narration has at most {MAX_NARRATION_CHARS}"),
                    ));
                }
                Ok(())
            }
            Narration::Audio { url } => match url::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
                _ => Err(invalid(
                    format!("{field}.url"),
                    "an audio narration needs an http(s) URL the provider can fetch",
                )),
            },
        }
    }
}

/// Reads one narration, refusals naming `field` and its parts.
pub fn parse_narration(value: &Value, field: &str) -> Result<Narration, Invalid> {
    let narration = Narration::deserialize(value).map_err(|e| invalid(field, e.to_string()))?;
    narration.check(field)?;
    Ok(narration)
}

/// Who is called and from which number, shared by voice messages and IVR calls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dialling {
    /// One of the channel's caller ids; the channel's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<String>,
    /// The contact property holding the number (`mobilephone` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_property: Option<String>,
    /// ISO country whose prefix is added to numbers written without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Dialling {
    fn check(&self) -> Result<(), Invalid> {
        if let Some(caller_id) = &self.caller_id {
            if !looks_like_e164(caller_id) {
                return Err(invalid(
                    "caller_id",
                    "a caller id is an E.164 number such as +34910000000",
                ));
            }
        }
        if let Some(property) = &self.phone_property {
            if property.trim().is_empty() || property.len() > 100 {
                return Err(invalid(
                    "phone_property",
                    "name the contact property that holds the number",
                ));
            }
        }
        if let Some(country) = &self.country {
            let is_code = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
            if !is_code || calling_code_of(country).is_none() {
                return Err(invalid(
                    "country",
                    format!("`{country}` is not an ISO country code such as BR"),
                ));
            }
        }
        Ok(())
    }
}

/// A recorded or spoken message played once to whoever answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VoiceMessage {
    #[serde(flatten)]
    pub dialling: Dialling,
    pub narration: Narration,
}

impl VoiceMessage {
    pub fn parse(value: &Value) -> Result<VoiceMessage, Invalid> {
        let object = object_at(value, "voice")?;
        only_keys(object, &["caller_id", "phone_property", "country", "narration"])?;
        let message = VoiceMessage {
            dialling: dialling_of(object)?,
            narration: part(object, "narration")?.ok_or_else(|| invalid("narration", "add a narration"))?,
        };
        message.dialling.check()?;
        message.narration.check("narration")?;
        Ok(message)
    }
}

/// A key's action as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Play,
    Transfer,
    SendSms,
    Unsubscribe,
}

/// One key of a menu.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyDefinition {
    pub action: ActionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narration: Option<Narration>,
    /// Transfer: the E.164 number the call is bridged to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Send SMS: the sender; the SMS channel's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// Send SMS: the text, with tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Play and send SMS: back to the menu or hang up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<Then>,
}

impl KeyDefinition {
    fn check(&self, field: &str) -> Result<(), Invalid> {
        if let Some(narration) = &self.narration {
            narration.check(&format!("{field}.narration"))?;
        }
        let not_for = |name: &str, present: bool| -> Result<(), Invalid> {
            if present {
                return Err(invalid(
                    format!("{field}.{name}"),
                    format!("`{name}` does not belong to a {} key", self.action_name()),
                ));
            }
            Ok(())
        };
        match self.action {
            ActionKind::Play => {
                if self.narration.is_none() {
                    return Err(invalid(format!("{field}.narration"), "a play key needs its narration"));
                }
                not_for("to", self.to.is_some())?;
                not_for("sender", self.sender.is_some())?;
                not_for("text", self.text.is_some())?;
            }
            ActionKind::Transfer => {
                match &self.to {
                    Some(to) if looks_like_e164(to) => {}
                    Some(_) => {
                        return Err(invalid(
                            format!("{field}.to"),
                            "transfer to an E.164 number such as +34911222333",
                        ))
                    }
                    None => {
                        return Err(invalid(
                            format!("{field}.to"),
                            "a transfer key needs the number to call",
                        ))
                    }
                }
                not_for("sender", self.sender.is_some())?;
                not_for("text", self.text.is_some())?;
                not_for("then", self.then.is_some())?;
            }
            ActionKind::SendSms => {
                if self.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
                    return Err(invalid(format!("{field}.text"), "write the SMS this key sends"));
                }
                not_for("to", self.to.is_some())?;
            }
            ActionKind::Unsubscribe => {
                not_for("to", self.to.is_some())?;
                not_for("sender", self.sender.is_some())?;
                not_for("text", self.text.is_some())?;
                not_for("then", self.then.is_some())?;
            }
        }
        Ok(())
    }

    fn action_name(&self) -> &'static str {
        match self.action {
            ActionKind::Play => "play",
            ActionKind::Transfer => "transfer",
            ActionKind::SendSms => "send_sms",
            ActionKind::Unsubscribe => "unsubscribe",
        }
    }

    /// The menu's view of the key: play returns to the menu and an SMS key
    /// hangs up unless `then` says otherwise.
    pub fn action(&self) -> KeyAction {
        match self.action {
            ActionKind::Play => KeyAction::Play {
                then: self.then.unwrap_or(Then::Menu),
            },
            ActionKind::Transfer => KeyAction::Transfer,
            ActionKind::SendSms => KeyAction::SendSms {
                then: self.then.unwrap_or(Then::Hangup),
            },
            ActionKind::Unsubscribe => KeyAction::Unsubscribe,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spoken {
    pub narration: Narration,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoInput {
    /// Seconds of silence after the menu before `narration` and a replay.
    pub timeout_s: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narration: Option<Narration>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// The outcomes that are tried again.
    pub on: Vec<Retryable>,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Seconds between attempts.
    pub delay_s: u32,
}

/// When the contact may be called, in their own time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallWindow {
    /// `mon`…`sun`, each day once.
    pub days: Vec<Weekday>,
    /// `HH:MM`, from inclusive to exclusive, `from` before `to`.
    pub from: String,
    pub to: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// Minutes since midnight of an `HH:MM` time.
pub fn minutes_of(time: &str) -> Option<u32> {
    let (h, m) = time.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl CallWindow {
    fn check(&self) -> Result<(), Invalid> {
        if self.days.is_empty() {
            return Err(invalid("call_window.days", "name at least one day"));
        }
        let mut days = self.days.clone();
        days.sort();
        days.dedup();
        if days.len() != self.days.len() {
            return Err(invalid("call_window.days", "name each day once"));
        }
        let from = minutes_of(&self.from).ok_or_else(|| invalid("call_window.from", "a time as HH:MM"))?;
        let to = minutes_of(&self.to).ok_or_else(|| invalid("call_window.to", "a time as HH:MM"))?;
        if from >= to {
            return Err(invalid("call_window.to", "the window ends after it starts"));
        }
        Ok(())
    }
}

/// An interactive call: a menu narration and what each key does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IvrDefinition {
    #[serde(flatten)]
    pub dialling: Dialling,
    pub narration: Narration,
    pub keys: BTreeMap<Key, KeyDefinition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrong_key: Option<Spoken>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_input: Option<NoInput>,
    pub max_menu_plays: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_window: Option<CallWindow>,
}

const IVR_KEYS: [&str; 10] = [
    "caller_id",
    "phone_property",
    "country",
    "narration",
    "keys",
    "wrong_key",
    "no_input",
    "max_menu_plays",
    "retry",
    "call_window",
];

impl IvrDefinition {
    pub fn parse(value: &Value) -> Result<IvrDefinition, Invalid> {
        let object = object_at(value, "ivr")?;
        only_keys(object, &IVR_KEYS)?;
        let dialling = dialling_of(object)?;
        dialling.check()?;
        let narration: Narration =
            part(object, "narration")?.ok_or_else(|| invalid("narration", "add the menu's narration"))?;
        narration.check("narration")?;
        let keys = keys_of(object)?;
        let wrong_key: Option<Spoken> = part(object, "wrong_key")?;
        if let Some(spoken) = &wrong_key {
            spoken.narration.check("wrong_key.narration")?;
        }
        let no_input: Option<NoInput> = part(object, "no_input")?;
        if let Some(no_input) = &no_input {
            if !(1..=60).contains(&no_input.timeout_s) {
                return Err(invalid("no_input.timeout_s", "between 1 and 60 seconds"));
            }
            if let Some(narration) = &no_input.narration {
                narration.check("no_input.narration")?;
            }
        }
        let max_menu_plays: u32 = part(object, "max_menu_plays")?.unwrap_or(super::ivr::DEFAULT_MAX_PLAYS);
        if !(1..=MAX_MENU_PLAYS).contains(&max_menu_plays) {
            return Err(invalid("max_menu_plays", format!("between 1 and {MAX_MENU_PLAYS}")));
        }
        let retry: Option<Retry> = part(object, "retry")?;
        if let Some(retry) = &retry {
            check_retry(retry)?;
        }
        let call_window: Option<CallWindow> = part(object, "call_window")?;
        if let Some(window) = &call_window {
            window.check()?;
        }
        Ok(IvrDefinition {
            dialling,
            narration,
            keys,
            wrong_key,
            no_input,
            max_menu_plays,
            retry,
            call_window,
        })
    }

    /// The menu the call runs.
    pub fn menu(&self) -> Menu {
        let mut menu = Menu::new(self.keys.iter().map(|(key, def)| (*key, def.action())));
        menu.max_plays = self.max_menu_plays;
        menu
    }

    /// The call's settings: the menu and the retries asked for.
    pub fn call_settings(&self) -> Settings {
        let mut settings = Settings {
            menu: Some(self.menu()),
            ..Settings::default()
        };
        if let Some(retry) = &self.retry {
            settings.max_attempts = retry.max_attempts;
            let delay: Millis = i64::from(retry.delay_s) * 1000;
            settings.retry_delays = retry.on.iter().map(|on| (*on, delay)).collect();
        }
        settings
    }
}

fn check_retry(retry: &Retry) -> Result<(), Invalid> {
    if retry.on.is_empty() {
        return Err(invalid(
            "retry.on",
            "name the outcomes to try again: busy, no_answer, …",
        ));
    }
    if !(1..=MAX_ATTEMPTS).contains(&retry.max_attempts) {
        return Err(invalid("retry.max_attempts", format!("between 1 and {MAX_ATTEMPTS}")));
    }
    if !(60..=86_400).contains(&retry.delay_s) {
        return Err(invalid("retry.delay_s", "between 60 seconds and one day"));
    }
    Ok(())
}

fn keys_of(object: &Map<String, Value>) -> Result<BTreeMap<Key, KeyDefinition>, Invalid> {
    let Some(Value::Object(keys)) = object.get("keys") else {
        return Err(invalid("keys", "an IVR call needs `keys`: what keys 0–9 do"));
    };
    if keys.is_empty() {
        return Err(invalid("keys", "give at least one key an action"));
    }
    let mut parsed = BTreeMap::new();
    for (name, value) in keys {
        let field = format!("keys.{name}");
        let key = Key::try_from(name.clone())
            .ok()
            .filter(|k| k.is_digit())
            .ok_or_else(|| invalid(&field, "menu keys are the digits 0–9"))?;
        let definition = KeyDefinition::deserialize(value).map_err(|e| invalid(&field, e.to_string()))?;
        definition.check(&field)?;
        parsed.insert(key, definition);
    }
    let opt_outs: Vec<&Key> = parsed
        .iter()
        .filter(|(_, d)| d.action == ActionKind::Unsubscribe)
        .map(|(k, _)| k)
        .collect();
    if let [_, second, ..] = opt_outs.as_slice() {
        return Err(invalid(format!("keys.{second}"), "one unsubscribe key is enough"));
    }
    Ok(parsed)
}

fn object_at<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Invalid> {
    value
        .as_object()
        .ok_or_else(|| invalid(what, format!("the {what} definition is an object")))
}

fn only_keys(object: &Map<String, Value>, allowed: &[&str]) -> Result<(), Invalid> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(invalid(
            key,
            format!("unknown field `{key}`; known: {}", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

/// The field `name` read as `T`; None when absent or null.
fn part<T: DeserializeOwned>(object: &Map<String, Value>, name: &str) -> Result<Option<T>, Invalid> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => T::deserialize(value)
            .map(Some)
            .map_err(|e| invalid(name, e.to_string())),
    }
}

fn dialling_of(object: &Map<String, Value>) -> Result<Dialling, Invalid> {
    Ok(Dialling {
        caller_id: part(object, "caller_id")?,
        phone_property: part(object, "phone_property")?,
        country: part(object, "country")?,
    })
}

#[cfg(test)]
mod tests;
