//! The connect and edit forms of each channel kind: which fields a kind
//! has, how they are shown, and how the posted fields become the `config`
//! object that the channel service validates (the same one the API takes).
//! Secrets are write-only: never filled in, left empty to keep them.

use serde_json::{json, Map, Value};

/// How a field is typed in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input {
    Text,
    /// Write-only: never shown; empty keeps the stored value.
    Secret,
    Number,
    Url,
    /// One value per line.
    Lines,
    /// WhatsApp numbers, one per line: `phone_number_id display_number`.
    PhoneNumbers,
    Choice(&'static [&'static str]),
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub required: bool,
    pub help: &'static str,
}

const fn field(key: &'static str, label: &'static str, input: Input, required: bool, help: &'static str) -> Field {
    Field {
        key,
        label,
        input,
        required,
        help,
    }
}

const TIERS: &[&str] = &["unverified", "250", "2000", "10000", "100000", "unlimited"];
const POLICIES: &[&str] = &["transliterate", "auto"];
const SMPP_VERSIONS: &[&str] = &["3.4", "5.0"];

const TIER: Field = field(
    "tier",
    "Messaging tier",
    Input::Choice(TIERS),
    false,
    "Business-initiated conversations Meta allows per 24 hours.",
);

const SMS_COMMON: [Field; 4] = [
    field(
        "senders",
        "Allowed senders",
        Input::Lines,
        false,
        "One per line (numbers in E.164 or alphanumeric up to 11 characters). Empty allows any valid sender.",
    ),
    field(
        "default_sender",
        "Default sender",
        Input::Text,
        false,
        "Used when a send names none; the first allowed sender otherwise.",
    ),
    field(
        "policy",
        "Character policy",
        Input::Choice(POLICIES),
        false,
        "transliterate keeps GSM-7 by replacing characters; auto switches to UCS-2.",
    ),
    field(
        "max_segments",
        "Most parts per message",
        Input::Number,
        false,
        "1 to 255; longer messages are refused (default 5).",
    ),
];

const CALLER_IDS: Field = field(
    "caller_ids",
    "Caller ids",
    Input::Lines,
    false,
    "One E.164 number per line that calls may show, such as +34910000000.",
);

const DEFAULT_CALLER_ID: Field = field(
    "default_caller_id",
    "Default caller id",
    Input::Text,
    false,
    "Shown when a call names none; the first caller id otherwise.",
);

/// Every field of `kind`, in form order (empty for an unknown kind).
pub fn fields(kind: &str) -> Vec<Field> {
    match kind {
        "whatsapp_cloud" => vec![
            field(
                "waba_id",
                "WhatsApp Business Account id",
                Input::Text,
                true,
                "From Meta's WhatsApp Manager.",
            ),
            field(
                "phone_numbers",
                "Phone numbers",
                Input::PhoneNumbers,
                true,
                "One per line: the phone number id, a space, and the number as shown (up to 25).",
            ),
            field(
                "access_token",
                "Access token",
                Input::Secret,
                true,
                "A system user's permanent token with whatsapp_business_messaging.",
            ),
            field(
                "app_secret",
                "App secret",
                Input::Secret,
                true,
                "Signs Meta's webhooks (X-Hub-Signature-256).",
            ),
            field(
                "verify_token",
                "Verify token",
                Input::Text,
                true,
                "Any secret text; paste the same into Meta's webhook settings.",
            ),
            field(
                "graph_base_url",
                "Graph API URL",
                Input::Url,
                false,
                "Default https://graph.facebook.com.",
            ),
            field(
                "graph_version",
                "Graph API version",
                Input::Text,
                false,
                "Default v23.0.",
            ),
            TIER,
        ],
        "whatsapp_360dialog" => vec![
            field(
                "phone_numbers",
                "Phone numbers",
                Input::PhoneNumbers,
                true,
                "One per line: the phone number id, a space, and the number as shown.",
            ),
            field(
                "api_key",
                "API key",
                Input::Secret,
                true,
                "The D360-API-KEY of the number.",
            ),
            field(
                "app_secret",
                "Webhook signing secret",
                Input::Secret,
                true,
                "Checks the signature of each webhook.",
            ),
            field(
                "base_url",
                "API URL",
                Input::Url,
                false,
                "Default https://waba-v2.360dialog.io.",
            ),
            field("waba_id", "WhatsApp Business Account id", Input::Text, false, ""),
            TIER,
        ],
        "whatsapp_sandbox" => vec![
            field(
                "phone_numbers",
                "Phone numbers",
                Input::PhoneNumbers,
                false,
                "Simulated numbers; default sandbox-1 +15550001111.",
            ),
            TIER,
        ],
        "sms_sandbox" => {
            let mut f = vec![
                field(
                    "delivery_ratio",
                    "Delivered share",
                    Input::Number,
                    false,
                    "0.0 to 1.0 of messages end delivered (default 1.0).",
                ),
                field(
                    "latency_ms",
                    "Receipt delay (ms)",
                    Input::Number,
                    false,
                    "Time before the delivery receipt (default 0).",
                ),
                field(
                    "failure_code",
                    "Failure code",
                    Input::Text,
                    false,
                    "Error reported for undelivered messages (default 30006).",
                ),
            ];
            f.extend(SMS_COMMON);
            f
        }
        "sms_http" => {
            let mut f = vec![
                field(
                    "base_url",
                    "API URL",
                    Input::Url,
                    false,
                    "A Twilio-compatible API; default https://api.twilio.com.",
                ),
                field("account_sid", "Account SID", Input::Text, true, ""),
                field(
                    "auth_token",
                    "Auth token",
                    Input::Secret,
                    true,
                    "Also checks the signature of status callbacks.",
                ),
                field(
                    "messaging_service_sid",
                    "Messaging service SID",
                    Input::Text,
                    false,
                    "Sends through the service instead of a sender.",
                ),
            ];
            f.extend(SMS_COMMON);
            f
        }
        "sms_smpp" => {
            let mut f = vec![
                field("host", "SMSC host", Input::Text, true, ""),
                field("port", "Port", Input::Number, false, "Default 2775."),
                field("system_id", "System id", Input::Text, true, ""),
                field("password", "Password", Input::Secret, false, ""),
                field("system_type", "System type", Input::Text, false, ""),
                field("version", "SMPP version", Input::Choice(SMPP_VERSIONS), false, ""),
                field(
                    "window",
                    "Window",
                    Input::Number,
                    false,
                    "Submissions awaiting an answer at once, 1 to 1000 (default 10).",
                ),
                field(
                    "throughput_per_sec",
                    "Most submissions per second",
                    Input::Number,
                    false,
                    "0 for no limit.",
                ),
                field(
                    "enquire_link_secs",
                    "Keep-alive every (s)",
                    Input::Number,
                    false,
                    "5 to 3600 (default 30).",
                ),
            ];
            f.extend(SMS_COMMON);
            f
        }
        "voice_sandbox" => vec![
            CALLER_IDS,
            DEFAULT_CALLER_ID,
            field(
                "ring_ms",
                "Ring time (ms)",
                Input::Number,
                false,
                "How long a simulated phone rings before its outcome, 0 to 60000 (default 0).",
            ),
        ],
        "voice_asterisk" => vec![
            field(
                "ari_url",
                "ARI URL",
                Input::Url,
                true,
                "Asterisk's REST interface, such as http://127.0.0.1:8088/ari.",
            ),
            field("ari_user", "ARI user", Input::Text, true, "From ari.conf."),
            field("ari_password", "ARI password", Input::Secret, true, ""),
            field(
                "app",
                "Stasis application",
                Input::Text,
                false,
                "The application the hub's calls enter (default recado).",
            ),
            field(
                "dial_template",
                "Dial string",
                Input::Text,
                true,
                "With {number} for the number called, such as PJSIP/{number}@trunk.",
            ),
            CALLER_IDS,
            DEFAULT_CALLER_ID,
            field(
                "max_cps",
                "Most calls started per second",
                Input::Number,
                false,
                "1 to 1000 (default 10).",
            ),
            field(
                "max_concurrent",
                "Most calls at once",
                Input::Number,
                false,
                "1 to 10000 (default 50).",
            ),
        ],
        "voice_http" => vec![
            field(
                "base_url",
                "API URL",
                Input::Url,
                false,
                "A TwiML-style voice API (Twilio, Telnyx TeXML, SignalWire); default https://api.twilio.com.",
            ),
            field("account_sid", "Account SID", Input::Text, true, ""),
            field(
                "auth_token",
                "Auth token",
                Input::Secret,
                true,
                "Also checks the signature of status callbacks.",
            ),
            field(
                "caller_ids",
                "Caller ids",
                Input::Lines,
                true,
                "One E.164 number of the account per line, such as +34910000000.",
            ),
            DEFAULT_CALLER_ID,
            field(
                "max_cps",
                "Most calls started per second",
                Input::Number,
                false,
                "1 to 1000 (default 1).",
            ),
        ],
        _ => Vec::new(),
    }
}

/// The kinds offered on the connect page: `(kind, label, what it is)`.
pub const KINDS: &[(&str, &str, &str)] = &[
    ("whatsapp_cloud", "WhatsApp Cloud API", "A number on Meta's Cloud API."),
    (
        "whatsapp_360dialog",
        "WhatsApp via 360dialog",
        "A number hosted by 360dialog.",
    ),
    (
        "whatsapp_sandbox",
        "WhatsApp sandbox",
        "A simulated account to try the hub offline.",
    ),
    ("sms_http", "SMS provider (HTTP)", "Twilio or a Twilio-compatible API."),
    (
        "sms_smpp",
        "SMS over SMPP",
        "A direct bind to an operator's or aggregator's SMSC.",
    ),
    (
        "sms_sandbox",
        "SMS sandbox",
        "Simulated delivery to try the hub offline.",
    ),
    (
        "voice_asterisk",
        "Voice over Asterisk",
        "Your own telephony: Asterisk's REST interface over a SIP trunk.",
    ),
    (
        "voice_http",
        "Voice provider (HTTP)",
        "Twilio, Telnyx TeXML or SignalWire calls.",
    ),
    (
        "voice_sandbox",
        "Voice sandbox",
        "Simulated calls to try voice messages and IVR offline.",
    ),
];

pub fn kind_label(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or("Channel", |(_, label, _)| label)
}

/// The `config` object of a posted form: empty fields are left out (the
/// default, or on edit the stored value, applies), numbers become numbers
/// when they read as one (otherwise the service names the field), lists
/// become arrays.
///
/// On edit (`editing`) an emptied list is sent as an empty list, so a list
/// can be cleared; other empty fields keep their stored value.
pub fn config_of(kind: &str, posted: &[(String, String)], editing: bool) -> Map<String, Value> {
    let mut config = Map::new();
    for f in fields(kind) {
        let Some(raw) = posted.iter().find(|(k, _)| k == f.key).map(|(_, v)| v.trim()) else {
            continue;
        };
        if raw.is_empty() {
            if editing && f.input == Input::Lines {
                config.insert(f.key.to_string(), json!([]));
            }
            continue;
        }
        let value = match f.input {
            Input::Number => raw
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map_or_else(|| json!(raw), number),
            Input::Lines => json!(lines(raw).collect::<Vec<_>>()),
            Input::PhoneNumbers => json!(lines(raw)
                .map(|line| {
                    let mut words = line.split_whitespace();
                    let id = words.next().unwrap_or_default();
                    let shown: Vec<&str> = words.collect();
                    let shown = (!shown.is_empty()).then(|| shown.join(" "));
                    json!({"phone_number_id": id, "display_phone_number": shown})
                })
                .collect::<Vec<_>>()),
            _ => json!(raw),
        };
        config.insert(f.key.to_string(), value);
    }
    config
}

/// A whole number stays an integer in JSON (the service reads ports and
/// windows as whole numbers).
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

fn lines(raw: &str) -> impl Iterator<Item = &str> {
    raw.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// A field's value as the edit form shows it, from the channel's public
/// settings (secrets are never there).
pub fn shown_value(field: &Field, config: &Value) -> String {
    let v = &config[field.key];
    match field.input {
        Input::Secret => String::new(),
        Input::Lines => v
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default(),
        Input::PhoneNumbers => v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| {
                        let id = n["phone_number_id"].as_str().unwrap_or_default();
                        match n["display_phone_number"].as_str() {
                            Some(shown) => format!("{id} {shown}"),
                            None => id.to_string(),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
        _ => match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn empty_fields_are_left_out_so_defaults_and_stored_values_apply() {
        let c = config_of(
            "sms_smpp",
            &posted(&[("host", "smsc.local"), ("port", ""), ("password", "")]),
            false,
        );
        assert_eq!(c.get("host"), Some(&json!("smsc.local")));
        assert!(!c.contains_key("port"));
        assert!(!c.contains_key("password"));
    }

    #[test]
    fn numbers_become_json_numbers_and_text_stays_text_for_the_service_to_refuse() {
        let c = config_of("sms_smpp", &posted(&[("port", "2776"), ("window", "ten")]), false);
        assert_eq!(c["port"], json!(2776));
        assert_eq!(c["window"], json!("ten"));
    }

    #[test]
    fn phone_number_lines_become_the_api_objects() {
        let c = config_of(
            "whatsapp_cloud",
            &posted(&[("phone_numbers", "1065 +1 555 000\n\n2077")]),
            false,
        );
        assert_eq!(
            c["phone_numbers"],
            json!([{"phone_number_id": "1065", "display_phone_number": "+1 555 000"}, {"phone_number_id": "2077", "display_phone_number": null}])
        );
    }

    #[test]
    fn an_emptied_list_clears_it_on_edit_only() {
        assert_eq!(
            config_of("sms_http", &posted(&[("senders", " ")]), true)["senders"],
            json!([])
        );
        assert!(!config_of("sms_http", &posted(&[("senders", " ")]), false).contains_key("senders"));
    }

    #[test]
    fn secrets_are_never_shown_back() {
        let f = fields("sms_http").into_iter().find(|f| f.key == "auth_token").unwrap();
        assert_eq!(shown_value(&f, &json!({"auth_token": "s3cret"})), "");
    }

    #[test]
    fn voice_caller_ids_are_lines_and_the_ari_password_is_write_only() {
        let c = config_of(
            "voice_asterisk",
            &posted(&[
                ("caller_ids", "+34910000000\n+34910000001"),
                ("ari_password", ""),
                ("max_cps", "5"),
            ]),
            false,
        );
        assert_eq!(c["caller_ids"], json!(["+34910000000", "+34910000001"]));
        assert!(!c.contains_key("ari_password"));
        assert_eq!(c["max_cps"], json!(5));
        let f = fields("voice_asterisk")
            .into_iter()
            .find(|f| f.key == "ari_password")
            .unwrap();
        assert_eq!(shown_value(&f, &json!({"ari_password": "pw"})), "");
    }

    #[test]
    fn fields_not_of_the_kind_are_ignored() {
        let c = config_of(
            "sms_sandbox",
            &posted(&[("host", "x"), ("delivery_ratio", "0.5")]),
            false,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c["delivery_ratio"], json!(0.5));
    }
}
