//! Meta's `Message` send schema with its `$ref`s inlined and the quirks of
//! `shared/specs/README.md` fixed (see the contract test's header for the list).
//!
//! Built only with the `contract` feature: the adapter's own contract test and
//! the server's end-to-end tests check every body they send with it.

use std::sync::OnceLock;

use jsonschema::{Draft, Validator};
use serde_json::{json, Map, Value};

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/specs/whatsapp-business-messaging-api_v23.0.yaml"
);
const META_INDEX_PATTERN: &str = "^[2-6, 11-14]$";

/// `components.schemas` of Meta's file, parsed once (the file is about 1 MB).
pub fn schemas() -> &'static Map<String, Value> {
    static SCHEMAS: OnceLock<Map<String, Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC).unwrap_or_else(|e| panic!("cannot read {SPEC}: {e}"));
        let yaml: serde_norway::Value = serde_norway::from_str(&text).expect("Meta's spec is valid YAML");
        let spec: Value = serde_json::to_value(yaml).expect("Meta's spec converts to JSON");
        spec["components"]["schemas"]
            .as_object()
            .expect("components.schemas")
            .clone()
    })
}

/// Validator for the fixed schema, compiled once.
pub fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| compile(&fixed_message_schema()))
}

pub fn compile(schema: &Value) -> Validator {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .build(schema)
        .expect("schema compiles")
}

pub fn fixed_message_schema() -> Value {
    let mut schemas = schemas().clone();
    let index = &mut schemas["TemplateComponent"]["properties"]["index"]["pattern"];
    assert_eq!(
        index, META_INDEX_PATTERN,
        "Meta's index pattern changed: review the quirk fix"
    );
    *index = json!("^[0-9]$");
    let required = &schemas["LanguageObject"]["required"];
    assert!(
        required.as_array().unwrap().contains(&json!("policy")),
        "language.policy is still required"
    );

    let mut message = inline(&json!({ "$ref": "#/components/schemas/Message" }), &schemas, true);
    for branch in message["oneOf"].as_array_mut().expect("Message is a oneOf") {
        branch["properties"]["biz_opaque_callback_data"] = json!({ "type": "string", "maxLength": 512 });
    }
    message
}

/// Inlines `$ref`s (the Message tree has no cycles) and drops annotation-only keywords whose
/// shapes in Meta's file are not JSON Schema (`example`, `discriminator`). With `merge`, `allOf`
/// branches are merged as described at the top of this file.
pub fn inline(schema: &Value, schemas: &Map<String, Value>, merge: bool) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    if let Some(Value::String(reference)) = object.get("$ref") {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .expect("local schema reference");
        return inline(&schemas[name], schemas, merge);
    }
    let mut out = Map::new();
    for (key, value) in object {
        let value = match key.as_str() {
            "example" | "examples" | "discriminator" => continue,
            "properties" | "$defs" | "patternProperties" => Value::Object(
                value
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), inline(v, schemas, merge)))
                    .collect(),
            ),
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => Value::Array(
                value
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| inline(v, schemas, merge))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" | "contains" | "if" | "then" | "else" => {
                inline(value, schemas, merge)
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    if merge {
        if let Some(Value::Array(branches)) = out.remove("allOf") {
            return merge_all_of(out, branches);
        }
    }
    Value::Object(out)
}

fn merge_all_of(mut merged: Map<String, Value>, branches: Vec<Value>) -> Value {
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut closed = false;
    for branch in branches {
        for (key, value) in branch.as_object().expect("allOf branch is an object") {
            match key.as_str() {
                "properties" => {
                    for (name, s) in value.as_object().unwrap() {
                        let combined = match properties.remove(name) {
                            Some(existing) => json!({ "allOf": [existing, s] }),
                            None => s.clone(),
                        };
                        properties.insert(name.clone(), combined);
                    }
                }
                "required" => required.extend(
                    value
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|r| !required.contains(r))
                        .cloned()
                        .collect::<Vec<_>>(),
                ),
                "additionalProperties" => closed |= value == &json!(false),
                _ => {
                    if let Some(existing) = merged.get(key) {
                        assert_eq!(existing, value, "conflicting `{key}` across allOf branches");
                    }
                    merged.insert(key.clone(), value.clone());
                }
            }
        }
    }
    merged.insert("properties".into(), Value::Object(properties));
    merged.insert("required".into(), Value::Array(required));
    if closed {
        merged.insert("additionalProperties".into(), json!(false));
    }
    Value::Object(merged)
}

/// Panics with the validator's findings when `body` is not a valid send request.
pub fn assert_valid_send_body(body: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "request body does not match Meta's Message schema: {errors:?}\n{body}"
    );
}
