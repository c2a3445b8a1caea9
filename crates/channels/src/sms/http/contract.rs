//! The provider's own request schema for sending a message: `CreateMessageRequest` of
//! `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` in `shared/specs/twilio_api_v2010.yaml`.
//!
//! A form is checked as the provider reads it: each parameter becomes a member of a JSON
//! object, typed by the schema (repeatable parameters as arrays, integers and booleans parsed).
//! The file's schema is made stricter where its prose is the rule:
//! - only parameters the schema defines are allowed (the provider ignores a misspelt name,
//!   which would silently drop, say, the status callback);
//! - `From` or `MessagingServiceSid` must be present, and `Body`, `MediaUrl` or `ContentSid`;
//! - formats are checked: `uri` as usual, and `phone-number` as an E.164 number, a short code,
//!   an alphanumeric sender id or a channel address (`whatsapp:+…`).
//!
//! Built only with the `contract` feature, for the adapter's tests and the server's.

use std::sync::OnceLock;

use jsonschema::{Draft, Validator};
use serde_json::{json, Map, Value};

use crate::whatsapp::contract::inline;

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/specs/twilio_api_v2010.yaml"
);
const MESSAGES_PATH: &str = "/2010-04-01/Accounts/{AccountSid}/Messages.json";
const FORM: &str = "application/x-www-form-urlencoded";

/// The spec file as JSON, parsed once (about 1.5 MB).
fn spec() -> &'static Value {
    static SPEC_JSON: OnceLock<Value> = OnceLock::new();
    SPEC_JSON.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC).unwrap_or_else(|e| panic!("cannot read {SPEC}: {e}"));
        let yaml: serde_norway::Value = serde_norway::from_str(&text).expect("the provider's spec is valid YAML");
        serde_json::to_value(yaml).expect("the provider's spec converts to JSON")
    })
}

/// `CreateMessageRequest` exactly as the file has it, `$ref`s inlined.
pub fn create_message_schema() -> Value {
    let spec = spec();
    let schemas = spec["components"]["schemas"].as_object().expect("components.schemas");
    let operation = &spec["paths"][MESSAGES_PATH]["post"];
    assert_eq!(
        operation["operationId"], "CreateMessage",
        "the Messages POST is CreateMessage"
    );
    let schema = &operation["requestBody"]["content"][FORM]["schema"];
    assert_eq!(schema["title"], "CreateMessageRequest");
    inline(schema, schemas, false)
}

/// [`create_message_schema`] with the stricter rules of this module's header.
pub fn strict_create_message_schema() -> Value {
    let mut schema = create_message_schema();
    schema["additionalProperties"] = json!(false);
    schema["allOf"] = json!([
        { "anyOf": [{ "required": ["From"] }, { "required": ["MessagingServiceSid"] }] },
        { "anyOf": [{ "required": ["Body"] }, { "required": ["MediaUrl"] }, { "required": ["ContentSid"] }] }
    ]);
    schema
}

/// Validator for [`strict_create_message_schema`], compiled once.
pub fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .with_format("phone-number", is_phone_number_or_sender)
            .build(&strict_create_message_schema())
            .expect("schema compiles")
    })
}

/// The form as a JSON object typed by the schema's properties.
pub fn form_to_json(form: &[(String, String)]) -> Value {
    let schema = create_message_schema();
    let properties = schema["properties"].as_object().cloned().unwrap_or_default();
    let mut out = Map::new();
    for (name, value) in form {
        let ty = properties
            .get(name)
            .and_then(|p| p["type"].as_str())
            .unwrap_or("string");
        match ty {
            "array" => {
                let entry = out.entry(name.clone()).or_insert_with(|| json!([]));
                if let Value::Array(items) = entry {
                    items.push(json!(value));
                }
            }
            // A value that does not parse stays a string, so the schema reports it.
            "integer" => {
                out.insert(name.clone(), value.parse::<i64>().map_or(json!(value), |n| json!(n)));
            }
            "number" => {
                out.insert(name.clone(), value.parse::<f64>().map_or(json!(value), |n| json!(n)));
            }
            "boolean" => {
                let parsed = match value.as_str() {
                    "true" => json!(true),
                    "false" => json!(false),
                    _ => json!(value),
                };
                out.insert(name.clone(), parsed);
            }
            _ => {
                // A scalar given twice is a malformed request: keep both so the schema refuses it.
                let previous = out.insert(name.clone(), json!(value));
                if let Some(previous) = previous {
                    out.insert(name.clone(), json!([previous, value]));
                }
            }
        }
    }
    Value::Object(out)
}

/// The validator's findings for `form`; empty when the provider would accept its shape.
pub fn form_errors(form: &[(String, String)]) -> Vec<String> {
    let instance = form_to_json(form);
    validator()
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Panics with the validator's findings when `form` is not a valid CreateMessage request.
#[track_caller]
pub fn assert_valid_create_message(form: &[(String, String)]) {
    let errors = form_errors(form);
    assert!(
        errors.is_empty(),
        "form does not match the provider's CreateMessageRequest: {errors:?}\n{form:?}"
    );
}

/// E.164 (`+` and 2–15 digits), a short code (3–8 digits), an alphanumeric sender id (at most
/// 11 letters, digits and spaces, one letter at least) or a channel address (`whatsapp:+…`).
fn is_phone_number_or_sender(value: &str) -> bool {
    if let Some((channel, address)) = value.split_once(':') {
        return !channel.is_empty()
            && channel.bytes().all(|b| b.is_ascii_lowercase())
            && is_phone_number_or_sender(address);
    }
    if let Some(digits) = value.strip_prefix('+') {
        return (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return (3..=8).contains(&value.len());
    }
    (1..=11).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && value.bytes().any(|b| b.is_ascii_alphabetic())
}
