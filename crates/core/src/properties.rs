//! Contact properties: well-known names and the rule for custom keys (SPEC §2).

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
