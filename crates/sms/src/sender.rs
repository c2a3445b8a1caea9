//! Sender ids (SPEC §5): numeric, or alphanumeric as shown on the handset.

use serde::Serialize;
use std::fmt;

/// Most digits of a numeric sender (an E.164 number has at most 15).
pub const MAX_NUMERIC_DIGITS: usize = 15;
/// Most characters of an alphanumeric sender (TP-OA carries 11 GSM characters).
pub const MAX_ALPHANUMERIC_CHARS: usize = 11;

/// A valid sender id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Sender {
    /// Digits only, optionally with a leading `+` (kept as given).
    Numeric(String),
    /// ASCII letters, digits and spaces, with at least one letter.
    Alphanumeric(String),
}

impl Sender {
    pub fn as_str(&self) -> &str {
        match self {
            Sender::Numeric(s) | Sender::Alphanumeric(s) => s,
        }
    }

    pub fn is_alphanumeric(&self) -> bool {
        matches!(self, Sender::Alphanumeric(_))
    }
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a sender id is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum SenderError {
    #[error("sender is empty")]
    Empty,
    #[error("numeric sender has {digits} digits; at most 15 are allowed")]
    NumericTooLong { digits: usize },
    #[error("numeric sender must have digits after '+'")]
    NoDigits,
    #[error("numeric sender may only contain digits after '+'; found {found:?} at position {position}")]
    NotADigit { found: char, position: usize },
    #[error("alphanumeric sender has {chars} characters; at most 11 are allowed")]
    AlphanumericTooLong { chars: usize },
    #[error("sender may only contain letters A-Z, digits and spaces; found {found:?} at position {position}")]
    InvalidCharacter { found: char, position: usize },
    #[error("alphanumeric sender must contain at least one letter")]
    NoLetter,
    #[error("sender must not start or end with a space")]
    SurroundingSpace,
}

/// Checks a sender id: numeric (digits only, optionally a leading `+`, at most 15
/// digits) or alphanumeric (ASCII letters, digits and spaces, at most 11 characters,
/// at least one letter). Positions in errors count characters from 1.
pub fn validate_sender(s: &str) -> Result<Sender, SenderError> {
    if s.is_empty() {
        return Err(SenderError::Empty);
    }
    if let Some(digits) = s.strip_prefix('+') {
        if digits.is_empty() {
            return Err(SenderError::NoDigits);
        }
        if let Some((i, found)) = digits.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(SenderError::NotADigit { found, position: i + 2 });
        }
        return numeric(s, digits.len());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return numeric(s, s.len());
    }
    if let Some((i, found)) = s
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == ' '))
    {
        return Err(SenderError::InvalidCharacter { found, position: i + 1 });
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return Err(SenderError::SurroundingSpace);
    }
    if !s.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Err(SenderError::NoLetter);
    }
    if s.len() > MAX_ALPHANUMERIC_CHARS {
        return Err(SenderError::AlphanumericTooLong { chars: s.len() });
    }
    Ok(Sender::Alphanumeric(s.to_owned()))
}

fn numeric(s: &str, digits: usize) -> Result<Sender, SenderError> {
    if digits > MAX_NUMERIC_DIGITS {
        return Err(SenderError::NumericTooLong { digits });
    }
    Ok(Sender::Numeric(s.to_owned()))
}
