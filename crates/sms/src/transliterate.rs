//! Transliteration: the closest GSM spelling of a character the active tables lack.
//!
//! The rule, from `reference/sms.md` §2: fold **only** what the active GSM tables
//! cannot carry (é, Ç, ü, € stay as they are), map punctuation and spaces the way the
//! common "smart encoding" services do, and when anything is left without a mapping
//! send the original message in UCS-2 instead (all or nothing). The table itself is in
//! [`table`] and documented in `crates/sms/TRANSLITERATION.md`.

mod table;

/// The GSM spelling of `c`, if there is one. The result may be empty (invisible
/// characters are dropped) or longer than one character (`…` → `...`).
#[inline]
pub fn transliterate(c: char) -> Option<&'static str> {
    let u = c as u32;
    if u < 256 {
        table::LATIN1[u as usize]
    } else {
        table::wide(c)
    }
}

/// Whether `c` is a combining diacritical mark (U+0300–U+036F), which NFD text uses
/// after a base letter (`e` + U+0301 for `é`).
#[inline(always)]
pub(crate) fn starts_combining_mark(bytes: &[u8], at: usize) -> bool {
    // U+0300–U+036F is CC 80–CD AF in UTF-8.
    match bytes.get(at) {
        Some(0xCC) => true,
        Some(0xCD) => matches!(bytes.get(at + 1), Some(0x80..=0xAF)),
        _ => false,
    }
}

/// Composes `base` with the combining marks that follow it at `text[at..]`.
/// Returns the composed character and the end of the cluster; marks that do not
/// compose are skipped (transliteration drops them).
pub(crate) fn compose_cluster(text: &str, base: char, mut at: usize) -> (char, usize) {
    let bytes = text.as_bytes();
    let mut composed = base;
    while starts_combining_mark(bytes, at) {
        let Some(mark) = text[at..].chars().next() else {
            break;
        };
        if let Some(c) = unicode_normalization::char::compose(composed, mark) {
            composed = c;
        }
        at += mark.len_utf8();
    }
    (composed, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portuguese_letters_fold_as_documented() {
        for (from, to) in [
            ('á', "a"),
            ('ã', "a"),
            ('õ', "o"),
            ('ê', "e"),
            ('ç', "Ç"),
            ('Ã', "A"),
            ('ô', "o"),
        ] {
            assert_eq!(transliterate(from), Some(to), "{from}");
        }
    }

    #[test]
    fn punctuation_and_spaces_become_ascii() {
        assert_eq!(transliterate('…'), Some("..."));
        assert_eq!(transliterate('“'), Some("\""));
        assert_eq!(transliterate('’'), Some("'"));
        assert_eq!(transliterate('—'), Some("-"));
        assert_eq!(transliterate('\u{00A0}'), Some(" "));
        assert_eq!(transliterate('\u{200B}'), Some(""));
        assert_eq!(transliterate('Ｈ'), Some("H"));
        assert_eq!(transliterate('～'), Some("~"));
    }

    #[test]
    fn emoji_have_no_mapping() {
        assert_eq!(transliterate('😀'), None);
        assert_eq!(transliterate('ち'), None);
    }

    #[test]
    fn decomposed_letters_compose() {
        let text = "e\u{0301}x";
        assert!(starts_combining_mark(text.as_bytes(), 1));
        assert_eq!(compose_cluster(text, 'e', 1), ('é', 3));
        let text = "a\u{0303}\u{0301}";
        assert_eq!(compose_cluster(text, 'a', 1).1, text.len());
    }
}
