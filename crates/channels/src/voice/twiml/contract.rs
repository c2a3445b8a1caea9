//! The provider's own request schemas for calls, from `shared/specs/twilio_api_v2010.yaml`:
//! `CreateCallRequest` of `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` and
//! `UpdateCallRequest` of `POST …/Calls/{Sid}.json`.
//!
//! A form is checked as the provider reads it: each parameter becomes a member of a JSON
//! object typed by the schema (repeatable parameters as arrays, integers and booleans parsed).
//! As for messages (`sms::http::contract`), the file's schema is made stricter where its prose
//! is the rule:
//! - only parameters the schema defines are allowed (a misspelt name is silently ignored by
//!   the provider — a lost status callback);
//! - a create needs `Url`, `Twiml` or `ApplicationSid` (something to play);
//! - `StatusCallbackEvent` values are the provider's events (`initiated`, `ringing`,
//!   `answered`, `completed`), `MachineDetection` is `Enable` or `DetectMessageEnd`, `Timeout`
//!   is 1–600 and `TimeLimit` at least 1;
//! - formats are checked: `uri` as usual, `endpoint` as an E.164 number, a `sip:` address or a
//!   `client:` identifier.
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
const CALLS_PATH: &str = "/2010-04-01/Accounts/{AccountSid}/Calls.json";
const CALL_PATH: &str = "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json";
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

fn request_schema(path: &str, operation_id: &str, title: &str) -> Value {
    let spec = spec();
    let schemas = spec["components"]["schemas"].as_object().expect("components.schemas");
    let operation = &spec["paths"][path]["post"];
    assert_eq!(operation["operationId"], operation_id, "the POST of {path}");
    let schema = &operation["requestBody"]["content"][FORM]["schema"];
    assert_eq!(schema["title"], title);
    inline(schema, schemas, false)
}

/// `CreateCallRequest` exactly as the file has it, `$ref`s inlined.
pub fn create_call_schema() -> Value {
    request_schema(CALLS_PATH, "CreateCall", "CreateCallRequest")
}

/// `UpdateCallRequest` exactly as the file has it, `$ref`s inlined.
pub fn update_call_schema() -> Value {
    request_schema(CALL_PATH, "UpdateCall", "UpdateCallRequest")
}

/// [`create_call_schema`] with the stricter rules of this module's header.
pub fn strict_create_call_schema() -> Value {
    let mut schema = create_call_schema();
    let events = spec()["components"]["schemas"]["call_enum_event"]["enum"].clone();
    assert!(events.is_array(), "the spec lists the call events");
    schema["additionalProperties"] = json!(false);
    let properties = &mut schema["properties"];
    properties["StatusCallbackEvent"]["items"]["enum"] = events;
    properties["MachineDetection"]["enum"] = json!(["Enable", "DetectMessageEnd"]);
    properties["AsyncAmd"]["enum"] = json!(["true", "false"]);
    properties["Timeout"]["minimum"] = json!(1);
    properties["Timeout"]["maximum"] = json!(600);
    properties["TimeLimit"]["minimum"] = json!(1);
    schema["allOf"] = json!([
        { "anyOf": [{ "required": ["Url"] }, { "required": ["Twiml"] }, { "required": ["ApplicationSid"] }] }
    ]);
    schema
}

/// [`update_call_schema`] with unknown parameters refused.
pub fn strict_update_call_schema() -> Value {
    let mut schema = update_call_schema();
    schema["additionalProperties"] = json!(false);
    schema
}

fn compile(schema: &Value) -> Validator {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .with_format("endpoint", is_endpoint)
        .build(schema)
        .expect("schema compiles")
}

/// Validator for [`strict_create_call_schema`], compiled once.
pub fn create_call_validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| compile(&strict_create_call_schema()))
}

/// Validator for [`strict_update_call_schema`], compiled once.
pub fn update_call_validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| compile(&strict_update_call_schema()))
}

/// The form as a JSON object typed by `schema`'s properties.
pub fn form_to_json(form: &[(String, String)], schema: &Value) -> Value {
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

fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The validator's findings for a create form; empty when the provider would accept its shape.
pub fn create_call_errors(form: &[(String, String)]) -> Vec<String> {
    let instance = form_to_json(form, &strict_create_call_schema());
    errors(create_call_validator(), &instance)
}

/// The validator's findings for an update form (a hang-up).
pub fn update_call_errors(form: &[(String, String)]) -> Vec<String> {
    let instance = form_to_json(form, &strict_update_call_schema());
    errors(update_call_validator(), &instance)
}

/// Panics with the validator's findings when `form` is not a valid CreateCall request.
#[track_caller]
pub fn assert_valid_create_call(form: &[(String, String)]) {
    let errors = create_call_errors(form);
    assert!(
        errors.is_empty(),
        "form does not match the provider's CreateCallRequest: {errors:?}\n{form:?}"
    );
}

/// Panics with the validator's findings when `form` is not a valid UpdateCall request.
#[track_caller]
pub fn assert_valid_update_call(form: &[(String, String)]) {
    let errors = update_call_errors(form);
    assert!(
        errors.is_empty(),
        "form does not match the provider's UpdateCallRequest: {errors:?}\n{form:?}"
    );
}

/// An E.164 number (`+` and 2–15 digits, no leading zero), a `sip:` address or a `client:`
/// identifier — what `To` and `From` may name.
pub fn is_endpoint(value: &str) -> bool {
    if let Some(digits) = value.strip_prefix('+') {
        return (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
    }
    if let Some(address) = value.strip_prefix("sip:") {
        return address
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && !host.is_empty() && !value.contains(char::is_whitespace));
    }
    if let Some(name) = value.strip_prefix("client:") {
        return !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    }
    false
}
