//! Small lenient readers over `serde_json::Value`.
//!
//! Webhook payloads grow new fields and types without notice, so parsing walks the JSON
//! tree and reads what it knows instead of deserialising into closed structs that would
//! reject a whole delivery because of one unexpected shape.

use serde_json::Value;

/// A string field; numbers are accepted too because Meta is not consistent (ids, timestamps).
pub(crate) fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A string field that is absent when empty (an empty caption or emoji means "none").
pub(crate) fn non_empty(v: &Value, key: &str) -> Option<String> {
    string(v, key).filter(|s| !s.is_empty())
}

pub(crate) fn boolean(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A float given as a JSON number or as a numeric string.
pub(crate) fn float(v: &Value, key: &str) -> Option<f64> {
    let value = match v.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    // "NaN" and "inf" parse as floats but are no coordinate or amount.
    value.is_finite().then_some(value)
}

/// An integer given as a JSON number or as a string of digits (Unix timestamps are strings).
pub(crate) fn integer(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The array under `key`, or an empty slice when it is absent or not an array.
pub(crate) fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}
