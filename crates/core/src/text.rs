//! Text the databases can store. PostgreSQL's `text` (and `jsonb`) cannot
//! hold U+0000, so a NUL character is refused where a person typed it (the API
//! and the pages answer 422) and replaced where a provider sent it (an
//! acknowledged webhook must never turn into a loss because of one character).

use serde_json::Value;
use std::borrow::Cow;

/// What stands in for a NUL character a provider sent.
pub const NUL_REPLACEMENT: char = '\u{FFFD}';

pub fn has_nul(s: &str) -> bool {
    s.contains('\0')
}

/// `s` with every NUL character replaced by U+FFFD.
pub fn without_nul(s: &str) -> Cow<'_, str> {
    if has_nul(s) {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The path (`a.b[2].c`, or `.` for the value itself) of the first string or
/// member name in `value` that holds a NUL character.
pub fn json_nul_path(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &mut String) -> bool {
        match value {
            Value::String(s) => has_nul(s),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(members) => members.iter().any(|(name, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&without_nul(name));
                let found = has_nul(name) || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(value, &mut path).then(|| if path.is_empty() { ".".to_string() } else { path })
}

/// Replaces NUL characters in every string and member name of `value`.
pub fn scrub_json_nul(value: &mut Value) {
    match value {
        Value::String(s) if has_nul(s) => *s = without_nul(s).into_owned(),
        Value::Array(items) => items.iter_mut().for_each(scrub_json_nul),
        Value::Object(members) => {
            if members.keys().any(|k| has_nul(k)) {
                let old = std::mem::take(members);
                for (k, v) in old {
                    members.insert(without_nul(&k).into_owned(), v);
                }
            }
            members.values_mut().for_each(scrub_json_nul);
        }
        _ => {}
    }
}

/// Whether a JSON text may hold a NUL character: an escaped `\u0000`
/// (a raw NUL byte is not valid JSON). A cheap test before walking the value.
pub fn json_text_may_hold_nul(json: &[u8]) -> bool {
    json.windows(6).any(|w| w == b"\\u0000")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_nul_is_found_at_its_path() {
        let v = json!({"properties": {"firstname": "A\u{0}na"}, "tags": ["x"]});
        assert_eq!(json_nul_path(&v).as_deref(), Some("properties.firstname"));
        assert_eq!(json_nul_path(&json!({"a": ["ok", "b\u{0}"]})).as_deref(), Some("a[1]"));
        assert_eq!(json_nul_path(&json!("\u{0}")).as_deref(), Some("."));
        assert_eq!(json_nul_path(&json!({"a": "fine"})), None);
    }

    #[test]
    fn scrubbing_replaces_every_nul_in_values_and_names() {
        let mut v = json!({"t\u{0}": ["a\u{0}b", {"c": "\u{0}"}]});
        scrub_json_nul(&mut v);
        assert_eq!(v, json!({"t\u{FFFD}": ["a\u{FFFD}b", {"c": "\u{FFFD}"}]}));
        assert_eq!(json_nul_path(&v), None);
    }

    #[test]
    fn only_an_escaped_nul_makes_a_json_text_suspect() {
        assert!(json_text_may_hold_nul(br#"{"a":"x\u0000"}"#));
        assert!(!json_text_may_hold_nul(br#"{"a":"x\u0001"}"#));
    }
}
