//! Voice calls and IVR menus (SPEC §6), as pure rules every voice provider
//! feeds: [`call`] is the one state machine of a call — what it records on
//! the timeline (`VOICE_*`), when it dials, and the timer that closes it when
//! provider reports are lost; [`ivr`] is the menu — what a key, a wrong key
//! or silence leads to.

pub mod call;
pub mod definition;
pub mod ivr;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A key the called contact pressed: a DTMF digit `0`–`9`, `*` or `#`.
/// Menus define actions for `0`–`9` only; `*` and `#` reach them as wrong
/// keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key(char);

impl Key {
    /// The key for a DTMF symbol; `None` for anything a keypad cannot send
    /// (the telephone-event letters `A`–`D` included: no phone in a
    /// contact's hand has them).
    pub fn new(symbol: char) -> Option<Key> {
        matches!(symbol, '0'..='9' | '*' | '#').then_some(Key(symbol))
    }

    /// The digit keys `0`–`9`.
    pub fn digit(d: u8) -> Option<Key> {
        (d < 10).then(|| Key(char::from(b'0' + d)))
    }

    pub fn symbol(self) -> char {
        self.0
    }

    pub fn is_digit(self) -> bool {
        self.0.is_ascii_digit()
    }

    /// The twelve keys of a keypad.
    pub fn all() -> impl Iterator<Item = Key> {
        "0123456789*#".chars().map(Key)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<String> for Key {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Key::new(c).ok_or_else(|| format!("`{s}` is not a phone key")),
            _ => Err(format!("`{s}` is not one phone key")),
        }
    }
}

impl From<Key> for String {
    fn from(key: Key) -> String {
        key.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_keypad_symbol() {
        assert_eq!(Key::new('7').map(Key::symbol), Some('7'));
        assert!(Key::new('#').is_some_and(|k| !k.is_digit()));
        assert_eq!(Key::new('A'), None);
        assert_eq!(
            Key::try_from("12".to_string()),
            Err("`12` is not one phone key".to_string())
        );
        assert_eq!(Key::digit(10), None);
        assert_eq!(Key::all().count(), 12);
        assert_eq!(serde_json::to_string(&Key::digit(3).unwrap()).unwrap(), "\"3\"");
    }
}
