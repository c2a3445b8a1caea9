//! SMS composition (tokens, URL tagging and shortening, the unsubscribe
//! link) is a pure rule of core ([`recado_core::sms_compose`]); only the
//! short codes' randomness comes from here.

pub use recado_core::sms_compose::*;

/// A short code: 10 random base62 characters (about 59 bits), not guessable.
pub fn random_code() -> String {
    crate::auth::random_chars(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes_are_ten_base62_characters_and_differ() {
        let a = random_code();
        assert_eq!(a.len(), 10);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, random_code());
    }
}
