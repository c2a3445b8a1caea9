//! Phone numbers in E.164 (SPEC §2), on top of the `phonenumber` crate (a port
//! of libphonenumber with its metadata).
//!
//! A number written without an international prefix is read in the context of,
//! in this order: the contact's `mobile_prefix`, the calling code of the
//! contact's `country`, the workspace's default country. The first hint that is
//! present decides; a number that then is not a *possible* number (right length
//! for its country) is refused.

use phonenumber::country::Id as Region;
use phonenumber::metadata::DATABASE;
use phonenumber::Mode;

/// Hints for numbers that lack an international prefix.
#[derive(Clone, Copy, Debug, Default)]
pub struct PhoneContext<'a> {
    /// An international calling code such as `+34`.
    pub mobile_prefix: Option<&'a str>,
    /// ISO 3166-1 alpha-2 code of the contact's country.
    pub country: Option<&'a str>,
    /// ISO 3166-1 alpha-2 code of the workspace's default country.
    pub default_country: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("`{0}` is not a phone number")]
    NotANumber(String),
    #[error("`{0}` has no international prefix and the contact has no mobile prefix or country to supply one")]
    NoCountry(String),
    #[error("`{0}` is not a possible phone number (wrong length for its country)")]
    NotPossible(String),
}

/// A number that parsed and is possible, in E.164 form (`+5511912345678`).
pub fn normalize(raw: &str, ctx: &PhoneContext<'_>) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || !trimmed.chars().any(|c| c.is_ascii_digit()) {
        return Err(PhoneError::NotANumber(raw.to_string()));
    }
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let region = if international {
        None
    } else {
        Some(region_for(ctx).ok_or_else(|| PhoneError::NoCountry(raw.to_string()))?)
    };
    let text = match trimmed.strip_prefix("00") {
        Some(rest) if international => format!("+{rest}"),
        _ => trimmed.to_string(),
    };
    let number = phonenumber::parse(region, &text).map_err(|_| PhoneError::NotANumber(raw.to_string()))?;
    if !is_possible(&number) {
        return Err(PhoneError::NotPossible(raw.to_string()));
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// The calling code (without `+`) of an ISO country, if the metadata knows it.
pub fn calling_code_of(country: &str) -> Option<u16> {
    DATABASE.by_id(country).map(|m| m.country_code())
}

/// Whether `s` is already a well-formed E.164 string (`+` and 8 to 15 digits).
pub fn looks_like_e164(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

fn region_for(ctx: &PhoneContext<'_>) -> Option<Region> {
    if let Some(prefix) = ctx.mobile_prefix {
        let code: u16 = prefix
            .trim()
            .trim_start_matches('+')
            .trim_start_matches("00")
            .parse()
            .ok()?;
        // The main region of a shared calling code (US for +1, GB for +44)
        // parses national numbers the same way as its siblings.
        let regions = DATABASE.by_code(&code)?;
        let main = regions
            .iter()
            .find(|m| m.is_main_country_for_code())
            .or(regions.first())?;
        return main.id().parse().ok();
    }
    [ctx.country, ctx.default_country]
        .into_iter()
        .flatten()
        .find_map(|c| c.trim().to_ascii_uppercase().parse::<Region>().ok())
}

/// libphonenumber's "possible number" test: the national number's length is
/// one that numbers of its country can have.
fn is_possible(number: &phonenumber::PhoneNumber) -> bool {
    let Some(meta) = number.metadata(&DATABASE) else {
        return false;
    };
    let len = number.national().to_string().len() as u16;
    // The metadata keeps lengths per number type; the general descriptor is
    // often left empty, so the possible lengths are the union of all types.
    let d = meta.descriptors();
    std::iter::once(Some(d.general()))
        .chain([
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
        ])
        .flatten()
        .any(|desc| desc.possible_length().contains(&len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(
        prefix: Option<&'static str>,
        country: Option<&'static str>,
        default: Option<&'static str>,
    ) -> PhoneContext<'static> {
        PhoneContext {
            mobile_prefix: prefix,
            country,
            default_country: default,
        }
    }

    #[test]
    fn national_number_takes_the_contacts_country() {
        assert_eq!(
            normalize("11 91234-5678", &with(None, Some("BR"), None)).unwrap(),
            "+5511912345678"
        );
    }

    #[test]
    fn mobile_prefix_comes_before_country() {
        assert_eq!(
            normalize("612345678", &with(Some("+34"), None, None)).unwrap(),
            "+34612345678"
        );
        assert_eq!(
            normalize("612345678", &with(Some("+34"), Some("BR"), Some("PT"))).unwrap(),
            "+34612345678"
        );
    }

    #[test]
    fn workspace_default_country_is_the_last_resort() {
        assert_eq!(
            normalize("912 345 678", &with(None, None, Some("PT"))).unwrap(),
            "+351912345678"
        );
        assert_eq!(
            normalize("612 345 678", &with(None, Some("ES"), Some("PT"))).unwrap(),
            "+34612345678"
        );
    }

    #[test]
    fn international_forms_ignore_the_hints() {
        assert_eq!(
            normalize("+48 512 345 678", &with(Some("+34"), Some("BR"), None)).unwrap(),
            "+48512345678"
        );
        assert_eq!(
            normalize("0048512345678", &with(None, None, None)).unwrap(),
            "+48512345678"
        );
        assert_eq!(
            normalize("+55 (11) 91234-5678", &PhoneContext::default()).unwrap(),
            "+5511912345678"
        );
    }

    #[test]
    fn trunk_prefix_is_dropped_under_a_mobile_prefix() {
        assert_eq!(
            normalize("07400 123456", &with(Some("+44"), None, None)).unwrap(),
            "+447400123456"
        );
    }

    #[test]
    fn a_national_number_without_any_hint_is_refused() {
        assert!(matches!(
            normalize("612345678", &PhoneContext::default()),
            Err(PhoneError::NoCountry(_))
        ));
    }

    #[test]
    fn impossible_numbers_are_refused() {
        assert!(matches!(
            normalize("123", &with(None, Some("BR"), None)),
            Err(PhoneError::NotPossible(_) | PhoneError::NotANumber(_))
        ));
        assert!(normalize("+34 6123", &PhoneContext::default()).is_err());
        assert!(normalize("+34 61234567890123", &PhoneContext::default()).is_err());
        assert!(normalize("not a phone", &with(None, Some("BR"), None)).is_err());
        assert!(normalize("", &with(None, Some("BR"), None)).is_err());
    }

    #[test]
    fn e164_shape_check() {
        assert!(looks_like_e164("+5511912345678"));
        assert!(!looks_like_e164("5511912345678"));
        assert!(!looks_like_e164("+55 11"));
    }

    #[test]
    fn calling_codes_come_from_the_metadata() {
        assert_eq!(calling_code_of("BR"), Some(55));
        assert_eq!(calling_code_of("PL"), Some(48));
        assert_eq!(calling_code_of("XX"), None);
    }
}
