//! Contact properties: well-known names and the rule for custom keys (SPEC §2),
//! value checks, and the E.164 form of the phone properties.

use crate::phone::{normalize, PhoneContext, PhoneError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Properties that hold phone numbers; each is normalised to E.164 and indexed
/// so a contact can be found by any of them.
pub const PHONE_PROPERTIES: [&str; 3] = ["phone", "mobilephone", "whatsapp_phone"];

/// Properties every contact may have, with a meaning the hub relies on.
pub const WELL_KNOWN: [&str; 9] = [
    "firstname",
    "lastname",
    "email",
    "phone",
    "mobilephone",
    "whatsapp_phone",
    "country",
    "mobile_prefix",
    "language",
];

/// Why a property was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertyError {
    #[error("property names are 1 to 64 characters of a-z, 0-9 and _")]
    BadName,
    #[error("property values must be strings, numbers, booleans or null")]
    BadValue,
    #[error("`country` must be an ISO 3166-1 alpha-2 code such as BR")]
    BadCountry,
    #[error("`mobile_prefix` must be an international calling code such as +34")]
    BadMobilePrefix,
    #[error("`email` must look like name@domain")]
    BadEmail,
    #[error("property values may not contain the NUL character (U+0000)")]
    Nul,
}

/// Custom and well-known keys share one rule: `[a-z0-9_]{1,64}`.
pub fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks one property value and returns it in its stored form (trimmed text;
/// numbers and booleans become text so every property is a string).
pub fn normalise_value(name: &str, value: &serde_json::Value) -> Result<Option<String>, PropertyError> {
    let text = match value {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return Err(PropertyError::BadValue),
    };
    if text.is_empty() {
        return Ok(None);
    }
    if crate::text::has_nul(&text) {
        return Err(PropertyError::Nul);
    }
    match name {
        "country" => {
            let upper = text.to_ascii_uppercase();
            if upper.len() != 2
                || !upper.bytes().all(|b| b.is_ascii_uppercase())
                || crate::phone::calling_code_of(&upper).is_none()
            {
                return Err(PropertyError::BadCountry);
            }
            Ok(Some(upper))
        }
        "mobile_prefix" => {
            let digits = text.trim_start_matches('+').trim_start_matches("00");
            if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(PropertyError::BadMobilePrefix);
            }
            Ok(Some(format!("+{digits}")))
        }
        "email" => {
            let ok = text.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace)
            });
            if !ok {
                return Err(PropertyError::BadEmail);
            }
            Ok(Some(text.to_lowercase()))
        }
        _ => Ok(Some(text)),
    }
}

/// A checked set of property changes: `None` clears a property.
pub type PropertyChanges = BTreeMap<String, Option<String>>;

/// Why a set of properties was refused: an error code, the property at fault
/// and a message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Refusal {
            code,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Checks names and values of a `properties` object.
pub fn check_properties(input: &Map<String, Value>) -> Result<PropertyChanges, Refusal> {
    let mut out = BTreeMap::new();
    for (name, value) in input {
        if !is_valid_name(name) {
            return Err(Refusal::new(
                "invalid_property",
                name.clone(),
                format!("`{name}`: property names are 1 to 64 characters of a-z, 0-9 and _"),
            ));
        }
        let value = normalise_value(name, value)
            .map_err(|e| Refusal::new("invalid_property", name.clone(), format!("`{name}`: {e}")))?;
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// Applies changes to existing properties.
pub fn merge(mut props: BTreeMap<String, String>, changes: PropertyChanges) -> BTreeMap<String, String> {
    for (name, value) in changes {
        match value {
            Some(v) => props.insert(name, v),
            None => props.remove(&name),
        };
    }
    props
}

/// The E.164 form of every phone property, read with the contact's
/// `mobile_prefix`, then `country`, then the workspace's default country.
pub fn phones_of(
    props: &BTreeMap<String, String>,
    default_country: Option<&str>,
) -> Result<BTreeMap<String, String>, Refusal> {
    let ctx = PhoneContext {
        mobile_prefix: props.get("mobile_prefix").map(String::as_str),
        country: props.get("country").map(String::as_str),
        default_country,
    };
    let mut phones = BTreeMap::new();
    for name in PHONE_PROPERTIES {
        if let Some(raw) = props.get(name) {
            let e164 = normalize(raw, &ctx).map_err(|e| {
                let why = match e {
                    PhoneError::NoCountry(_) => "has no international prefix and the contact has no mobile_prefix or country (nor the workspace a default country)",
                    PhoneError::NotPossible(_) => "is not a possible phone number for its country",
                    PhoneError::NotANumber(_) => "is not a phone number",
                };
                Refusal::new("invalid_phone", name, format!("`{name}` ({raw}) {why}"))
            })?;
            phones.insert(name.to_string(), e164);
        }
    }
    Ok(phones)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn custom_property_names_follow_the_key_rule() {
        assert!(is_valid_name("loyalty_tier_2"));
        assert!(is_valid_name(&"a".repeat(64)));
        assert!(!is_valid_name(&"a".repeat(65)));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("First-Name"));
        assert!(!is_valid_name("ação"));
    }

    #[test]
    fn values_are_stored_as_trimmed_text_and_empty_clears() {
        assert_eq!(normalise_value("city", &json!("  Lisboa ")), Ok(Some("Lisboa".into())));
        assert_eq!(normalise_value("age", &json!(42)), Ok(Some("42".into())));
        assert_eq!(normalise_value("vip", &json!(true)), Ok(Some("true".into())));
        assert_eq!(normalise_value("city", &json!(null)), Ok(None));
        assert_eq!(normalise_value("city", &json!("")), Ok(None));
        assert_eq!(normalise_value("city", &json!({"a": 1})), Err(PropertyError::BadValue));
    }

    #[test]
    fn country_is_an_iso_alpha2_code() {
        assert_eq!(normalise_value("country", &json!("br")), Ok(Some("BR".into())));
        assert_eq!(
            normalise_value("country", &json!("Brazil")),
            Err(PropertyError::BadCountry)
        );
        assert_eq!(normalise_value("country", &json!("ZZ")), Err(PropertyError::BadCountry));
    }

    #[test]
    fn mobile_prefix_is_a_calling_code() {
        assert_eq!(normalise_value("mobile_prefix", &json!("34")), Ok(Some("+34".into())));
        assert_eq!(
            normalise_value("mobile_prefix", &json!("+351")),
            Ok(Some("+351".into()))
        );
        assert_eq!(
            normalise_value("mobile_prefix", &json!("+3a")),
            Err(PropertyError::BadMobilePrefix)
        );
    }

    #[test]
    fn email_must_look_like_an_address() {
        assert_eq!(
            normalise_value("email", &json!("Ana@Example.com")),
            Ok(Some("ana@example.com".into()))
        );
        assert_eq!(normalise_value("email", &json!("ana")), Err(PropertyError::BadEmail));
    }
}
