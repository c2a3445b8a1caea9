//! GSM 7-bit alphabets: the default table pair and the national language tables of
//! 3GPP TS 23.038 that Recado supports (Portuguese, Spanish, Turkish).
//!
//! An [`Alphabet`] is one usable combination of a locking shift table (the base
//! table, one septet per character) and a single shift table (reached with ESC, two
//! septets per character). Lookups for U+0000–U+00FF go through a 256-entry table
//! built at compile time, because nearly every character of Latin-script marketing
//! text falls in that range and analysis must stay allocation-free per character.

pub(crate) mod tables;

use crate::NationalLanguage;
use serde::Serialize;
use tables::{ESC, NO};

/// The national language tables announced in the user data header of a message.
///
/// `single` is the single shift table (IE 0x24), `locking` the locking shift table
/// (IE 0x25). Both `None` means the default alphabet and its extension table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct ShiftTables {
    pub single: Option<NationalLanguage>,
    pub locking: Option<NationalLanguage>,
}

impl ShiftTables {
    /// The default alphabet and extension table: no national language header.
    pub const DEFAULT: ShiftTables = ShiftTables {
        single: None,
        locking: None,
    };

    /// Number of national language information elements this needs in the UDH.
    pub fn header_elements(self) -> u32 {
        self.single.is_some() as u32 + self.locking.is_some() as u32
    }

    /// The language, when one is used (Recado never mixes two languages).
    pub fn language(self) -> Option<NationalLanguage> {
        self.single.or(self.locking)
    }
}

/// Table entry: 0 = not representable; otherwise the high byte is the cost in septets
/// (1 = locking table, 2 = ESC + single shift table) and the low byte the septet code.
pub(crate) type Entry = u16;

const ONE_SEPTET: Entry = 0x100;
const ESCAPED: Entry = 0x200;

/// Septets taken by a table entry (0 when not representable).
#[inline(always)]
pub(crate) fn entry_cost(entry: Entry) -> u32 {
    (entry >> 8) as u32
}

/// One combination of locking and single shift tables, with its fast lookup table.
pub(crate) struct Alphabet {
    pub tables: ShiftTables,
    pub locking: &'static [char; 128],
    pub single: &'static [char; 128],
    latin1: [Entry; 256],
}

impl Alphabet {
    const fn new(tables: ShiftTables, locking: &'static [char; 128], single: &'static [char; 128]) -> Alphabet {
        let mut latin1 = [0 as Entry; 256];
        // Single shift first, so that a character present in both tables ends up
        // with its cheaper one-septet locking-table code.
        let mut code = 0;
        while code < 128 {
            let c = single[code] as u32;
            if single[code] != NO && c < 256 {
                latin1[c as usize] = ESCAPED | code as Entry;
            }
            code += 1;
        }
        let mut code = 0;
        while code < 128 {
            let c = locking[code] as u32;
            if code != ESC as usize && locking[code] != NO && c < 256 {
                latin1[c as usize] = ONE_SEPTET | code as Entry;
            }
            code += 1;
        }
        Alphabet {
            tables,
            locking,
            single,
            latin1,
        }
    }

    /// Entry for `c` (0 when this alphabet cannot carry it).
    #[inline(always)]
    pub fn lookup(&self, c: char) -> Entry {
        let u = c as u32;
        if u < 256 {
            self.latin1[u as usize]
        } else {
            self.lookup_wide(c)
        }
    }

    /// Entry for an ASCII byte.
    #[inline(always)]
    pub fn lookup_ascii(&self, b: u8) -> Entry {
        self.latin1[b as usize]
    }

    #[cold]
    fn lookup_wide(&self, c: char) -> Entry {
        // Every table character above U+00FF is Greek (U+0393–U+03A9), Turkish
        // (U+011E–U+0131, U+015E–U+015F), € or ∞: reject everything else at once.
        let u = c as u32;
        if !matches!(u, 0x0393..=0x03A9 | 0x011E..=0x015F | 0x20AC | 0x221E) {
            return 0;
        }
        if let Some(code) = self
            .locking
            .iter()
            .enumerate()
            .position(|(code, &t)| t == c && code != ESC as usize)
        {
            return ONE_SEPTET | code as Entry;
        }
        if let Some(code) = self.single.iter().position(|&t| t == c && t != NO) {
            return ESCAPED | code as Entry;
        }
        0
    }

    /// Whether every character of `s` is representable; returns their septet total.
    #[inline]
    pub fn cost_of_str(&self, s: &str) -> Option<u32> {
        let mut total = 0;
        for c in s.chars() {
            let e = self.lookup(c);
            if e == 0 {
                return None;
            }
            total += entry_cost(e);
        }
        Some(total)
    }
}

/// Septet code of an entry (without the ESC prefix).
#[inline(always)]
pub(crate) fn entry_code(entry: Entry) -> u8 {
    (entry & 0x7F) as u8
}

use tables::{
    DEFAULT_LOCKING, DEFAULT_SINGLE, PORTUGUESE_LOCKING, PORTUGUESE_SINGLE, SPANISH_SINGLE, TURKISH_LOCKING,
    TURKISH_SINGLE,
};
use NationalLanguage::{Es, Pt, Tr};

const fn tables(single: Option<NationalLanguage>, locking: Option<NationalLanguage>) -> ShiftTables {
    ShiftTables { single, locking }
}

pub(crate) static DEFAULT: Alphabet = Alphabet::new(tables(None, None), &DEFAULT_LOCKING, &DEFAULT_SINGLE);
static PT_SINGLE: Alphabet = Alphabet::new(tables(Some(Pt), None), &DEFAULT_LOCKING, &PORTUGUESE_SINGLE);
static PT_LOCKING: Alphabet = Alphabet::new(tables(None, Some(Pt)), &PORTUGUESE_LOCKING, &DEFAULT_SINGLE);
static PT_BOTH: Alphabet = Alphabet::new(tables(Some(Pt), Some(Pt)), &PORTUGUESE_LOCKING, &PORTUGUESE_SINGLE);
static ES_SINGLE: Alphabet = Alphabet::new(tables(Some(Es), None), &DEFAULT_LOCKING, &SPANISH_SINGLE);
static TR_SINGLE: Alphabet = Alphabet::new(tables(Some(Tr), None), &DEFAULT_LOCKING, &TURKISH_SINGLE);
static TR_LOCKING: Alphabet = Alphabet::new(tables(None, Some(Tr)), &TURKISH_LOCKING, &DEFAULT_SINGLE);
static TR_BOTH: Alphabet = Alphabet::new(tables(Some(Tr), Some(Tr)), &TURKISH_LOCKING, &TURKISH_SINGLE);

/// The national alphabets worth trying for a language, cheapest header first.
/// Spanish has only a single shift table (Annex A.3.2 is void).
pub(crate) fn national_alphabets(language: NationalLanguage) -> &'static [&'static Alphabet] {
    static PT: [&Alphabet; 3] = [&PT_SINGLE, &PT_LOCKING, &PT_BOTH];
    static ES: [&Alphabet; 1] = [&ES_SINGLE];
    static TR: [&Alphabet; 3] = [&TR_SINGLE, &TR_LOCKING, &TR_BOTH];
    match language {
        Pt => &PT,
        Es => &ES,
        Tr => &TR,
    }
}

/// The alphabet for a combination Recado can send (same language in both IEs).
pub(crate) fn alphabet_for(tables: ShiftTables) -> Option<&'static Alphabet> {
    if tables == ShiftTables::DEFAULT {
        return Some(&DEFAULT);
    }
    let language = tables.language()?;
    national_alphabets(language)
        .iter()
        .copied()
        .find(|a| a.tables == tables)
}

/// Locking shift table to decode with (default when `None`).
pub(crate) fn locking_table(language: Option<NationalLanguage>) -> &'static [char; 128] {
    match language {
        None | Some(Es) => &DEFAULT_LOCKING,
        Some(Pt) => &PORTUGUESE_LOCKING,
        Some(Tr) => &TURKISH_LOCKING,
    }
}

/// Single shift table to decode with (default extension table when `None`).
pub(crate) fn single_table(language: Option<NationalLanguage>) -> &'static [char; 128] {
    match language {
        None => &DEFAULT_SINGLE,
        Some(Pt) => &PORTUGUESE_SINGLE,
        Some(Es) => &SPANISH_SINGLE,
        Some(Tr) => &TURKISH_SINGLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_alphabet_has_capital_c_cedilla_at_0x09_and_no_small_one() {
        assert_eq!(DEFAULT.lookup('Ç'), ONE_SEPTET | 0x09);
        assert_eq!(DEFAULT.lookup('ç'), 0);
    }

    #[test]
    fn extension_characters_cost_two_septets_in_default_alphabet() {
        for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\u{000C}'] {
            assert_eq!(entry_cost(DEFAULT.lookup(c)), 2, "{c:?}");
        }
    }

    #[test]
    fn wide_lookup_finds_greek_euro_and_turkish_letters() {
        assert_eq!(DEFAULT.lookup('Δ'), ONE_SEPTET | 0x10);
        assert_eq!(DEFAULT.lookup('€'), ESCAPED | 0x65);
        assert_eq!(PT_LOCKING.lookup('€'), ONE_SEPTET | 0x18);
        assert_eq!(PT_LOCKING.lookup('∞'), ONE_SEPTET | 0x15);
        assert_eq!(TR_LOCKING.lookup('ğ'), ONE_SEPTET | 0x0C);
        assert_eq!(TR_SINGLE.lookup('ş'), ESCAPED | 0x73);
        assert_eq!(DEFAULT.lookup('ş'), 0);
        assert_eq!(DEFAULT.lookup('😀'), 0);
    }

    #[test]
    fn escape_position_is_never_a_character() {
        for a in [&DEFAULT, &PT_BOTH, &TR_BOTH] {
            assert_eq!(a.lookup('\u{1B}'), 0);
            assert_eq!(a.lookup('\0'), 0);
        }
    }

    #[test]
    fn national_single_shift_tables_keep_every_default_extension_character() {
        for a in [&PT_SINGLE, &ES_SINGLE, &TR_SINGLE] {
            for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\u{000C}'] {
                assert_ne!(a.lookup(c), 0, "{c:?}");
            }
        }
    }

    #[test]
    fn portuguese_locking_makes_some_extension_characters_cost_one() {
        for c in ['^', '\\', '€', '|', '~'] {
            assert_eq!(entry_cost(PT_LOCKING.lookup(c)), 1, "{c:?}");
        }
        for c in ['[', ']', '{', '}'] {
            assert_eq!(entry_cost(PT_LOCKING.lookup(c)), 2, "{c:?}");
        }
    }

    #[test]
    fn table_sizes_match_the_standard() {
        let count = |t: &[char; 128]| t.iter().filter(|&&c| c != NO).count();
        assert_eq!(count(&PORTUGUESE_SINGLE), 37);
        assert_eq!(count(&SPANISH_SINGLE), 19);
        assert_eq!(count(&TURKISH_SINGLE), 17);
        assert_eq!(count(&DEFAULT_SINGLE), 10);
        assert_eq!(count(&DEFAULT_LOCKING), 127);
        assert_eq!(count(&PORTUGUESE_LOCKING), 127);
        assert_eq!(count(&TURKISH_LOCKING), 127);
    }
}
