//! API tokens and roles. Tokens are random, shown once, and stored only as a
//! SHA-256 hash: they carry 256 bits of entropy, so a fast hash is as safe as a
//! slow one and keeps every request cheap. Passwords (low entropy) use argon2.

use crate::error::AppError;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new API token: `rcd_` and 64 hex characters (256 random bits).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("rcd_{}", hex::encode(bytes))
}

/// A generated sign-in password: 20 characters from an alphabet without
/// look-alikes (about 115 bits), easy to copy from a terminal.
pub fn generate_password() -> String {
    random_chars(b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 20)
}

/// `n` characters drawn uniformly from `alphabet` with the OS's generator.
pub fn random_chars(alphabet: &[u8], n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..n)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A user's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }
}

pub use crate::settings::PasswordCost;
use crate::settings::MIN_PASSWORD_CHARS;

/// 422 `weak_password` for a password shorter than the minimum.
pub fn check_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "weak_password",
            "password",
            format!("passwords have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// The e-mail address, trimmed and lower-cased; 422 `invalid_email` when it
/// does not look like `name@domain`.
pub fn check_email(email: &str) -> Result<String, AppError> {
    let email = email.trim().to_lowercase();
    let ok = email
        .split_once('@')
        .is_some_and(|(u, d)| !u.is_empty() && !d.is_empty() && !email.contains(char::is_whitespace));
    if !ok {
        return Err(AppError::invalid(
            "invalid_email",
            "email",
            "e-mail must look like name@domain",
        ));
    }
    Ok(email)
}

pub fn hash_password(password: &str, cost: PasswordCost) -> Result<String, AppError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    let hasher = match cost {
        PasswordCost::Standard => argon2::Argon2::default(),
        PasswordCost::Minimal => argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8, 1, 1, None).map_err(AppError::internal)?,
        ),
    };
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_random_long_enough_and_verify_against_their_hash() {
        let a = generate_password();
        assert_ne!(a, generate_password());
        assert!(a.chars().count() >= crate::settings::MIN_PASSWORD_CHARS);
        let hash = hash_password(&a, PasswordCost::Standard).unwrap();
        assert!(verify_password(&a, &hash));
        assert!(!verify_password("not-the-password", &hash));
    }

    #[test]
    fn tokens_are_random_and_stored_as_hashes() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with("rcd_") && a.len() == 68);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), a);
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse", PasswordCost::Standard).unwrap();
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }
}
