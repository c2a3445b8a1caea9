//! The fields of a voice step (`send_voice`: a message played once) and of
//! an IVR step (`send_ivr`: a menu and what keys 0–9 do): dialling, every
//! narration with its Listen button, each key's action, the wrong key,
//! silence, plays, retries and the call window. The JSON they make is read
//! by recado-core's one parser, whose refusal is shown next to the field it
//! names.

use super::*;
use crate::ui::narration::NarrationForm;
use recado_core::voice::definition::{IvrDefinition, VoiceMessage};

/// The outcomes a call may be tried again on, as the form offers them.
pub const RETRY_ON: [(&str, &str); 4] = [
    ("busy", "busy"),
    ("no_answer", "no answer"),
    ("congestion", "network congestion"),
    ("machine", "answering machine"),
];

pub const KEY_ACTIONS: [(&str, &str); 5] = [
    ("", "— nothing (a wrong key) —"),
    ("play", "Play a narration"),
    ("transfer", "Transfer the call"),
    ("send_sms", "Send an SMS"),
    ("unsubscribe", "Unsubscribe from calls"),
];

const THEN: [(&str, &str); 3] = [
    ("", "as the action does"),
    ("menu", "the menu again"),
    ("hangup", "hang up"),
];

#[derive(Clone, Debug, Default)]
pub struct KeyForm {
    pub key: String,
    pub action: String,
    pub narration: NarrationForm,
    pub to: String,
    pub sender: String,
    pub text: String,
    pub then: String,
    pub error: Option<String>,
    pub prefix: String,
    pub action_opts: Vec<Opt>,
    pub then_opts: Vec<Opt>,
}

impl KeyForm {
    /// What the key does, in a few words (the key's summary line).
    pub fn summary(&self) -> String {
        match self.action.as_str() {
            "" => "not used".into(),
            "transfer" if !self.to.trim().is_empty() => format!("transfer to {}", self.to.trim()),
            "send_sms" => "send an SMS".into(),
            "play" => "play a narration".into(),
            "unsubscribe" => "unsubscribe from calls".into(),
            other => other.replace('_', " "),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct VoiceStepForm {
    pub caller_id: String,
    pub phone_property: String,
    pub country: String,
    pub narration: NarrationForm,
    pub keys: Vec<KeyForm>,
    pub wrong_key: NarrationForm,
    pub no_input_timeout: String,
    pub no_input: NarrationForm,
    pub max_menu_plays: String,
    pub retry_on: Vec<String>,
    pub retry_max_attempts: String,
    pub retry_delay_s: String,
    pub window_days: Vec<String>,
    pub window_from: String,
    pub window_to: String,
    /// Field prefix, `s2.v`.
    pub prefix: String,
    pub retry_opts: Vec<Opt>,
    pub day_opts: Vec<Opt>,
    /// The refusal of the step, by field (`keys.1.to`), when it names one.
    pub errors: Vec<(String, String)>,
}

fn blank_keys() -> Vec<KeyForm> {
    (0..10)
        .map(|d| KeyForm {
            key: d.to_string(),
            narration: NarrationForm::blank(),
            ..Default::default()
        })
        .collect()
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A number as JSON when it reads as one; else the text, for the parser to
/// refuse by its field.
fn number_or_text(s: &str) -> Value {
    let s = s.trim();
    s.parse::<u64>().map_or_else(|_| Value::from(s), Value::from)
}

impl VoiceStepForm {
    pub fn blank() -> VoiceStepForm {
        VoiceStepForm {
            narration: NarrationForm::blank(),
            keys: blank_keys(),
            wrong_key: NarrationForm::blank(),
            no_input: NarrationForm::blank(),
            ..Default::default()
        }
    }

    /// The form of a `voice` or `ivr` object.
    pub fn from_value(v: &Value) -> VoiceStepForm {
        let mut f = VoiceStepForm::blank();
        f.caller_id = text_of(&v["caller_id"]);
        f.phone_property = text_of(&v["phone_property"]);
        f.country = text_of(&v["country"]);
        f.narration = NarrationForm::from_value(v.get("narration"));
        if let Some(keys) = v["keys"].as_object() {
            for (name, k) in keys {
                let Some(slot) = f.keys.iter_mut().find(|s| &s.key == name) else {
                    continue;
                };
                slot.action = text_of(&k["action"]);
                slot.narration = NarrationForm::from_value(k.get("narration"));
                slot.to = text_of(&k["to"]);
                slot.sender = text_of(&k["sender"]);
                slot.text = text_of(&k["text"]);
                slot.then = text_of(&k["then"]);
            }
        }
        f.wrong_key = NarrationForm::from_value(v["wrong_key"].get("narration"));
        f.no_input_timeout = text_of(&v["no_input"]["timeout_s"]);
        f.no_input = NarrationForm::from_value(v["no_input"].get("narration"));
        f.max_menu_plays = text_of(&v["max_menu_plays"]);
        if let Some(on) = v["retry"]["on"].as_array() {
            f.retry_on = on.iter().map(text_of).collect();
        }
        f.retry_max_attempts = text_of(&v["retry"]["max_attempts"]);
        f.retry_delay_s = text_of(&v["retry"]["delay_s"]);
        if let Some(days) = v["call_window"]["days"].as_array() {
            f.window_days = days.iter().map(text_of).collect();
        }
        f.window_from = text_of(&v["call_window"]["from"]);
        f.window_to = text_of(&v["call_window"]["to"]);
        f
    }

    /// Reads the posted fields of step `i` (`s{i}.v.…`).
    pub fn from_fields(
        get: &dyn Fn(&str) -> String,
        all: &dyn Fn(&str) -> Vec<String>,
        fields: &[(String, String)],
        i: usize,
    ) -> VoiceStepForm {
        let p = format!("s{i}.v");
        let f = |name: &str| get(&format!("{p}.{name}"));
        let mut form = VoiceStepForm {
            caller_id: f("caller_id"),
            phone_property: f("phone_property"),
            country: f("country"),
            narration: NarrationForm::from_fields(fields, &format!("{p}.narration")),
            keys: (0..10)
                .map(|d| {
                    let k = |name: &str| get(&format!("{p}.keys.{d}.{name}"));
                    KeyForm {
                        key: d.to_string(),
                        action: k("action"),
                        narration: NarrationForm::from_fields(fields, &format!("{p}.keys.{d}.narration")),
                        to: k("to"),
                        sender: k("sender"),
                        text: k("text"),
                        then: k("then"),
                        ..Default::default()
                    }
                })
                .collect(),
            wrong_key: NarrationForm::from_fields(fields, &format!("{p}.wrong_key.narration")),
            no_input_timeout: f("no_input.timeout_s"),
            no_input: NarrationForm::from_fields(fields, &format!("{p}.no_input.narration")),
            max_menu_plays: f("max_menu_plays"),
            retry_on: all(&format!("{p}.retry.on")),
            retry_max_attempts: f("retry.max_attempts"),
            retry_delay_s: f("retry.delay_s"),
            window_days: all(&format!("{p}.call_window.days")),
            window_from: f("call_window.from"),
            window_to: f("call_window.to"),
            ..Default::default()
        };
        // A narration whose fields were not posted at all is a blank one.
        for n in [&mut form.narration, &mut form.wrong_key, &mut form.no_input] {
            if n.kind.is_empty() {
                n.kind = "tts".into();
            }
        }
        form
    }

    /// The `voice` (`ivr` false) or `ivr` object.
    pub fn to_value(&self, ivr: bool) -> Value {
        let mut o = Map::new();
        let opt = |o: &mut Map<String, Value>, key: &str, value: &str| {
            if !value.trim().is_empty() {
                o.insert(key.into(), value.trim().into());
            }
        };
        opt(&mut o, "caller_id", &self.caller_id);
        opt(&mut o, "phone_property", &self.phone_property);
        opt(&mut o, "country", &self.country);
        if let Some(n) = self.narration.to_value() {
            o.insert("narration".into(), n);
        }
        if !ivr {
            return Value::Object(o);
        }
        let mut keys = Map::new();
        for k in self.keys.iter().filter(|k| !k.action.is_empty()) {
            let mut key = Map::new();
            key.insert("action".into(), k.action.clone().into());
            if let Some(n) = k.narration.to_value() {
                key.insert("narration".into(), n);
            }
            match k.action.as_str() {
                "transfer" => opt(&mut key, "to", &k.to),
                "send_sms" => {
                    opt(&mut key, "sender", &k.sender);
                    if !k.text.trim().is_empty() {
                        key.insert("text".into(), k.text.clone().into());
                    }
                }
                _ => {}
            }
            if matches!(k.action.as_str(), "play" | "send_sms") {
                opt(&mut key, "then", &k.then);
            }
            keys.insert(k.key.clone(), Value::Object(key));
        }
        o.insert("keys".into(), Value::Object(keys));
        if let Some(n) = self.wrong_key.to_value() {
            o.insert("wrong_key".into(), json!({ "narration": n }));
        }
        let narration = self.no_input.to_value();
        if !self.no_input_timeout.trim().is_empty() || narration.is_some() {
            let mut no_input = Map::new();
            // Five seconds of silence unless told otherwise.
            let timeout = Some(self.no_input_timeout.trim())
                .filter(|t| !t.is_empty())
                .unwrap_or("5");
            no_input.insert("timeout_s".into(), number_or_text(timeout));
            if let Some(n) = narration {
                no_input.insert("narration".into(), n);
            }
            o.insert("no_input".into(), Value::Object(no_input));
        }
        if !self.max_menu_plays.trim().is_empty() {
            o.insert("max_menu_plays".into(), number_or_text(&self.max_menu_plays));
        }
        let retry_given = !self.retry_on.is_empty()
            || !self.retry_max_attempts.trim().is_empty()
            || !self.retry_delay_s.trim().is_empty();
        if retry_given {
            let attempts = Some(self.retry_max_attempts.trim())
                .filter(|t| !t.is_empty())
                .unwrap_or("2");
            let delay = Some(self.retry_delay_s.trim())
                .filter(|t| !t.is_empty())
                .unwrap_or("600");
            o.insert(
                "retry".into(),
                json!({
                    "on": self.retry_on,
                    "max_attempts": number_or_text(attempts),
                    "delay_s": number_or_text(delay),
                }),
            );
        }
        let window_given =
            !self.window_days.is_empty() || !self.window_from.trim().is_empty() || !self.window_to.trim().is_empty();
        if window_given {
            o.insert(
                "call_window".into(),
                json!({
                    "days": self.window_days,
                    "from": self.window_from.trim(),
                    "to": self.window_to.trim(),
                }),
            );
        }
        Value::Object(o)
    }

    /// The refusal of recado-core's parser, as `(field, message)`.
    pub fn check(&self, ivr: bool) -> Result<(), (String, String)> {
        let value = self.to_value(ivr);
        let checked = if ivr {
            IvrDefinition::parse(&value).map(drop)
        } else {
            VoiceMessage::parse(&value).map(drop)
        };
        checked.map_err(|e| (e.field, e.message))
    }

    /// The error of `field`, if the step's refusal names exactly it.
    pub fn error_for(&self, field: &str) -> Option<String> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.clone())
    }

    /// The step's refusals about `path` or a part of it.
    pub fn errors_under(&self, path: &str) -> Vec<(String, String)> {
        self.errors
            .iter()
            .filter(|(f, _)| f == path || f.starts_with(&format!("{path}.")))
            .cloned()
            .collect()
    }

    /// Names the fields and the choices, and hands each refusal to the
    /// part it names (the most precise one shown).
    pub fn prepare(&mut self, prefix: String, error: Option<&str>) {
        self.errors = error.and_then(split_error).into_iter().collect();
        let err = self.errors.first().cloned();
        let under = |path: &str| -> Option<String> {
            err.as_ref()
                .filter(|(f, _)| f == path || f.starts_with(&format!("{path}.")))
                .map(|(f, m)| {
                    if f == path {
                        m.clone()
                    } else {
                        format!("{}: {m}", f.strip_prefix(&format!("{path}.")).unwrap_or(f))
                    }
                })
        };
        if self.keys.len() != 10 {
            self.keys = blank_keys();
        }
        self.narration.prepare(format!("{prefix}.narration"));
        self.narration.error = under("narration");
        self.wrong_key.prepare(format!("{prefix}.wrong_key.narration"));
        self.wrong_key.error = under("wrong_key");
        self.no_input.prepare(format!("{prefix}.no_input.narration"));
        self.no_input.error = under("no_input.narration");
        for k in self.keys.iter_mut() {
            let path = format!("keys.{}", k.key);
            k.prefix = format!("{prefix}.keys.{}", k.key);
            k.narration.prepare(format!("{}.narration", k.prefix));
            k.narration.error = under(&format!("{path}.narration"));
            k.error = if k.narration.error.is_some() {
                None
            } else {
                under(&path)
            };
            k.action_opts = opts(&KEY_ACTIONS, &k.action);
            k.then_opts = opts(&THEN, &k.then);
        }
        self.retry_opts = RETRY_ON
            .iter()
            .map(|(v, l)| Opt {
                value: v.to_string(),
                label: l.to_string(),
                selected: self.retry_on.iter().any(|x| x == v),
            })
            .collect();
        self.day_opts = DAYS
            .iter()
            .map(|d| Opt {
                value: d.to_string(),
                label: d.to_string(),
                selected: self.window_days.iter().any(|x| x == d),
            })
            .collect();
        self.prefix = prefix;
    }
}

/// "`ivr.keys.1.to`: transfer to …" → (`keys.1.to`, "transfer to …").
pub fn split_error(error: &str) -> Option<(String, String)> {
    let rest = error.strip_prefix('`')?;
    let (field, message) = rest.split_once("`: ")?;
    let field = field.strip_prefix("ivr.").or_else(|| field.strip_prefix("voice."))?;
    Some((field.to_string(), message.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tts(text: &str) -> Value {
        json!({"kind": "tts", "language": "pt-BR", "text": text})
    }

    #[test]
    fn an_ivr_reads_back_the_same_through_its_fields() {
        let v = json!({
            "caller_id": "+34910000000",
            "country": "ES",
            "phone_property": "phone",
            "narration": tts("Olá {{contact.firstname}}. Tecle 1, 2, 3 ou 9."),
            "keys": {
                "1": {"action": "transfer", "to": "+34911222333", "narration": tts("A transferir.")},
                "2": {"action": "send_sms", "text": "Código: {{contact.code}}", "sender": "RECADO",
                      "narration": {"kind": "audio", "url": "https://example.com/sms.wav"}, "then": "menu"},
                "3": {"action": "play", "narration": {"kind": "tts", "language": "es", "voice": "male", "text": "Horario"}},
                "9": {"action": "unsubscribe"}
            },
            "wrong_key": {"narration": tts("Opção inválida.")},
            "no_input": {"timeout_s": 7, "narration": tts("Ainda está aí?")},
            "max_menu_plays": 2,
            "retry": {"on": ["busy", "no_answer"], "max_attempts": 3, "delay_s": 600},
            "call_window": {"days": ["mon", "fri"], "from": "09:00", "to": "21:00"}
        });
        assert_eq!(VoiceStepForm::from_value(&v).to_value(true), v);
        assert!(VoiceStepForm::from_value(&v).check(true).is_ok());
    }

    #[test]
    fn a_voice_message_reads_back_the_same_through_its_fields() {
        let v = json!({"narration": tts("O seu pedido chegou."), "caller_id": "+34910000000"});
        assert_eq!(VoiceStepForm::from_value(&v).to_value(false), v);
    }

    #[test]
    fn a_refusal_lands_on_the_narration_or_key_it_names() {
        let mut f = VoiceStepForm::blank();
        f.prepare(
            "s0.v".into(),
            Some("`ivr.keys.3.narration.text`: write what the contact hears"),
        );
        assert_eq!(
            f.keys[3].narration.error.as_deref(),
            Some("text: write what the contact hears")
        );
        assert_eq!(f.keys[3].error, None);
        f.prepare("s0.v".into(), Some("`ivr.keys.1.to`: transfer to an E.164 number"));
        assert_eq!(f.keys[1].error.as_deref(), Some("to: transfer to an E.164 number"));
        assert_eq!(f.error_for("keys.1.to").as_deref(), Some("transfer to an E.164 number"));
    }
}
