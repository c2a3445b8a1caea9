//! The transliteration table: the closest GSM spelling of characters the GSM tables
//! lack. Documented for users in `crates/sms/TRANSLITERATION.md`; keep both in step.
//!
//! A mapping is used only for a character the active GSM tables cannot carry, so the
//! entries for letters that *are* in the default alphabet (é, ñ, ä, ß, …) only matter
//! when a national locking shift table replaces them (for example `ñ` is absent from
//! the Portuguese locking table).

/// U+0000–U+00FF.
pub(super) static LATIN1: [Option<&str>; 256] = latin1();

#[rustfmt::skip]
const fn latin1() -> [Option<&'static str>; 256] {
    let pairs: &[(char, &str)] = &[
        // Control characters: a tab becomes a space, other controls are dropped
        // (they are invisible and would otherwise force the whole message to UCS-2).
        ('\u{00}', ""), ('\u{01}', ""), ('\u{02}', ""), ('\u{03}', ""), ('\u{04}', ""),
        ('\u{05}', ""), ('\u{06}', ""), ('\u{07}', ""), ('\u{08}', ""), ('\t', " "),
        ('\u{0B}', " "), ('\u{0E}', ""), ('\u{0F}', ""), ('\u{10}', ""), ('\u{11}', ""),
        ('\u{12}', ""), ('\u{13}', ""), ('\u{14}', ""), ('\u{15}', ""), ('\u{16}', ""),
        ('\u{17}', ""), ('\u{18}', ""), ('\u{19}', ""), ('\u{1A}', ""), ('\u{1B}', ""),
        ('\u{1C}', ""), ('\u{1D}', ""), ('\u{1E}', ""), ('\u{1F}', ""), ('\u{7F}', ""),
        ('`', "'"),
        ('\u{85}', "\n"),
        // Latin-1 punctuation and symbols.
        ('\u{A0}', " "), ('¡', "!"), ('¢', "c"), ('¦', "|"), ('¨', "\""), ('©', "(c)"),
        ('ª', "a"), ('«', "\""), ('¬', "-"), ('\u{AD}', ""), ('®', "(R)"), ('¯', "-"),
        ('°', "o"), ('±', "+/-"), ('²', "2"), ('³', "3"), ('´', "'"), ('µ', "u"),
        ('·', "."), ('¸', ","), ('¹', "1"), ('º', "o"), ('»', "\""), ('¼', "1/4"),
        ('½', "1/2"), ('¾', "3/4"), ('¿', "?"), ('×', "x"), ('÷', "/"),
        // Capital letters.
        ('À', "A"), ('Á', "A"), ('Â', "A"), ('Ã', "A"), ('Ä', "A"), ('Å', "A"),
        ('Æ', "AE"), ('Ç', "C"), ('È', "E"), ('É', "E"), ('Ê', "E"), ('Ë', "E"),
        ('Ì', "I"), ('Í', "I"), ('Î', "I"), ('Ï', "I"), ('Ð', "D"), ('Ñ', "N"),
        ('Ò', "O"), ('Ó', "O"), ('Ô', "O"), ('Õ', "O"), ('Ö', "O"), ('Ø', "O"),
        ('Ù', "U"), ('Ú', "U"), ('Û', "U"), ('Ü', "U"), ('Ý', "Y"), ('Þ', "TH"),
        // Small letters. ç becomes the GSM capital Ç (code 0x09), as the seed connector
        // does: the default alphabet has no small ç and Ç keeps the cedilla visible.
        ('ß', "ss"), ('à', "a"), ('á', "a"), ('â', "a"), ('ã', "a"), ('ä', "a"),
        ('å', "a"), ('æ', "ae"), ('ç', "Ç"), ('è', "e"), ('é', "e"), ('ê', "e"),
        ('ë', "e"), ('ì', "i"), ('í', "i"), ('î', "i"), ('ï', "i"), ('ð', "d"),
        ('ñ', "n"), ('ò', "o"), ('ó', "o"), ('ô', "o"), ('õ', "o"), ('ö', "o"),
        ('ø', "o"), ('ù', "u"), ('ú', "u"), ('û', "u"), ('ü', "u"), ('ý', "y"),
        ('þ', "th"), ('ÿ', "y"),
    ];
    let mut table: [Option<&'static str>; 256] = [None; 256];
    let mut i = 0;
    while i < pairs.len() {
        table[pairs[i].0 as usize] = Some(pairs[i].1);
        i += 1;
    }
    table
}

/// Printable ASCII, sliced to map full-width forms (U+FF01–U+FF5E) to ASCII.
pub(super) const PRINTABLE_ASCII: &str =
    "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

/// Characters above U+00FF.
#[rustfmt::skip]
pub(super) fn wide(c: char) -> Option<&'static str> {
    Some(match c {
        // Latin Extended-A: Polish, Turkish, Czech, Slovak, Hungarian, Romanian,
        // Baltic and other letters lose their diacritic.
        'Ā' | 'Ă' | 'Ą' => "A", 'ā' | 'ă' | 'ą' => "a",
        'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C", 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'Ď' | 'Đ' => "D", 'ď' | 'đ' => "d",
        'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => "E", 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "G", 'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'Ĥ' | 'Ħ' => "H", 'ĥ' | 'ħ' => "h",
        'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => "I", 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'Ĳ' => "IJ", 'ĳ' => "ij", 'Ĵ' => "J", 'ĵ' => "j",
        'Ķ' => "K", 'ķ' => "k", 'ĸ' => "k",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => "L", 'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'Ń' | 'Ņ' | 'Ň' | 'Ŋ' => "N", 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'Ō' | 'Ŏ' | 'Ő' => "O", 'ō' | 'ŏ' | 'ő' => "o",
        'Œ' => "OE", 'œ' => "oe",
        'Ŕ' | 'Ŗ' | 'Ř' => "R", 'ŕ' | 'ŗ' | 'ř' => "r",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' | 'Ș' => "S", 'ś' | 'ŝ' | 'ş' | 'š' | 'ș' | 'ſ' => "s",
        'Ţ' | 'Ť' | 'Ŧ' | 'Ț' => "T", 'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => "U", 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'Ŵ' => "W", 'ŵ' => "w",
        'Ŷ' | 'Ÿ' => "Y", 'ŷ' => "y",
        'Ź' | 'Ż' | 'Ž' => "Z", 'ź' | 'ż' | 'ž' => "z",
        'ẞ' => "SS",
        // Greek: capitals that look like Latin letters become those letters, small
        // letters become the GSM capital Greek letter or the Latin look-alike.
        'Α' => "A", 'Β' => "B", 'Ε' => "E", 'Ζ' => "Z", 'Η' => "H", 'Ι' => "I",
        'Κ' => "K", 'Μ' => "M", 'Ν' => "N", 'Ο' => "O", 'Ρ' => "P", 'Τ' => "T",
        'Υ' => "Y", 'Χ' => "X",
        'α' => "A", 'β' => "B", 'γ' => "Γ", 'δ' => "Δ", 'ε' => "E", 'ζ' => "Z",
        'η' => "H", 'θ' => "Θ", 'ι' => "I", 'κ' => "K", 'λ' => "Λ", 'μ' => "M",
        'ν' => "N", 'ξ' => "Ξ", 'ο' => "O", 'π' => "Π", 'ρ' => "P", 'σ' | 'ς' => "Σ",
        'τ' => "T", 'υ' => "Y", 'φ' => "Φ", 'χ' => "X", 'ψ' => "Ψ", 'ω' => "Ω",
        // Spacing modifier letters used as quotes or accents.
        'ʹ' | 'ʻ' | 'ʼ' | 'ʽ' | 'ˈ' | 'ˊ' | 'ˋ' => "'", 'ʺ' | '˝' => "\"",
        'ˆ' => "^", '˜' => "~",
        // Combining diacritical marks left over after composition are dropped.
        '\u{0300}'..='\u{036F}' => "",
        // Spaces.
        '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => " ",
        // Invisible characters: zero-width space and joiners, direction marks, word
        // joiner, byte order mark.
        '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' => "",
        // Dashes and hyphens.
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' => "-",
        // Quotes.
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2035}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{2036}' => "\"",
        '\u{2039}' => "<", '\u{203A}' => ">",
        // Other punctuation.
        '\u{2022}' | '\u{2043}' => "-",
        '\u{2024}' => ".", '\u{2025}' => "..", '\u{2026}' => "...",
        '\u{2028}' | '\u{2029}' => "\n",
        '\u{203C}' => "!!", '\u{2047}' => "??", '\u{2048}' => "?!", '\u{2049}' => "!?",
        '\u{2044}' | '\u{2215}' => "/", '\u{2216}' => "\\", '\u{2217}' => "*",
        '\u{2219}' => ".", '\u{223C}' => "~",
        '\u{2264}' => "<=", '\u{2265}' => ">=", '\u{2260}' => "!=",
        '\u{2122}' => "TM", '\u{2116}' => "No",
        // Full-width ASCII (CJK input methods).
        '\u{FF01}'..='\u{FF5E}' => {
            let i = c as usize - 0xFF01;
            &PRINTABLE_ASCII[i..i + 1]
        }
        _ => return None,
    })
}
