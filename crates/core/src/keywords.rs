//! Consent keywords (SPEC §3): an inbound WhatsApp or SMS message whose whole
//! text is one keyword subscribes or unsubscribes the contact on that channel.
//!
//! Matching rules:
//! - Only white space may surround the keyword (any Unicode white space, plus
//!   the invisible zero-width space, word joiner and byte-order mark that
//!   phones and copy-paste leave behind). Anything else, including trailing
//!   punctuation (`STOP.`, `STOP!`), means the message is a sentence rather
//!   than a command, so it is not a keyword: a false opt-in is a consent
//!   violation and a false opt-out silently loses a customer.
//! - Case and normalisation form are ignored: both sides are compared after
//!   full Unicode case folding and NFKC, so `ß`/`SS`, NFD input and full-width
//!   `ＳＴＯＰ` behave like their plain forms.
//! - Opt-out keywords also match with accents removed (`ARRETER`): honouring a
//!   badly typed opt-out is always the safe side. Opt-in keywords keep their
//!   accents, because subscribing someone needs an unambiguous request.
//! - A workspace's custom keywords follow the same rules; a custom keyword
//!   that folds to the same form as a built-in one replaces it.

use std::sync::LazyLock;

use caseless::Caseless;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// What a keyword does to the channel's subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeywordKind {
    OptIn,
    OptOut,
}

impl KeywordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeywordKind::OptIn => "opt_in",
            KeywordKind::OptOut => "opt_out",
        }
    }
}

impl std::str::FromStr for KeywordKind {
    type Err = crate::consent::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [KeywordKind::OptIn, KeywordKind::OptOut]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| crate::consent::UnknownValue(s.to_string()))
    }
}

impl TryFrom<String> for KeywordKind {
    type Error = crate::consent::UnknownValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A keyword a workspace added to the built-in ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomKeyword {
    pub word: String,
    pub kind: KeywordKind,
    /// Language of the word (`es`, `pt-BR`…), used to pick the confirmation.
    pub language: Option<String>,
}

/// One of the keywords every workspace understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BuiltinKeyword {
    pub word: &'static str,
    pub kind: KeywordKind,
    pub language: &'static str,
}

/// The keyword an inbound message consisted of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeywordMatch {
    pub kind: KeywordKind,
    /// The keyword as defined (`ARRÊTER`), not as the contact typed it.
    pub keyword: String,
    pub language: Option<String>,
}

/// Why a custom keyword was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeywordError {
    #[error("a keyword cannot be empty")]
    Empty,
    #[error("a keyword must be a single word, without spaces")]
    InnerWhitespace,
    #[error("a keyword has at most {MAX_KEYWORD_CHARS} characters")]
    TooLong,
}

/// Longest custom keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 32;

const BUILTINS: &[BuiltinKeyword] = &[
    builtin("START", KeywordKind::OptIn, "en"),
    builtin("SUBSCRIBE", KeywordKind::OptIn, "en"),
    builtin("UNSTOP", KeywordKind::OptIn, "en"),
    builtin("STOP", KeywordKind::OptOut, "en"),
    builtin("STOPALL", KeywordKind::OptOut, "en"),
    builtin("UNSUBSCRIBE", KeywordKind::OptOut, "en"),
    builtin("CANCEL", KeywordKind::OptOut, "en"),
    builtin("END", KeywordKind::OptOut, "en"),
    builtin("QUIT", KeywordKind::OptOut, "en"),
    builtin("EMPEZAR", KeywordKind::OptIn, "es"),
    builtin("ALTO", KeywordKind::OptOut, "es"),
    builtin("COMMENCER", KeywordKind::OptIn, "fr"),
    builtin("ARRÊTER", KeywordKind::OptOut, "fr"),
    builtin("INICIAR", KeywordKind::OptIn, "pt"),
    builtin("PARAR", KeywordKind::OptOut, "pt"),
    builtin("LOSLEGEN", KeywordKind::OptIn, "de"),
    builtin("BEENDEN", KeywordKind::OptOut, "de"),
    builtin("開始", KeywordKind::OptIn, "ja"),
    builtin("停止", KeywordKind::OptOut, "ja"),
];

const fn builtin(word: &'static str, kind: KeywordKind, language: &'static str) -> BuiltinKeyword {
    BuiltinKeyword { word, kind, language }
}

/// The keywords every workspace understands, in the order of SPEC §3.
pub fn builtin_keywords() -> &'static [BuiltinKeyword] {
    BUILTINS
}

/// Checks a custom keyword and returns it trimmed: one word of at most
/// [`MAX_KEYWORD_CHARS`] characters.
pub fn validate_custom_keyword(word: &str) -> Result<String, KeywordError> {
    let trimmed = trim_space(word);
    if trimmed.is_empty() {
        return Err(KeywordError::Empty);
    }
    // Checked on the folded form too: a few compatibility characters (such as
    // `¨`) normalise to a space and would make the keyword two words.
    if trimmed.chars().any(is_space) || fold(trimmed).chars().any(is_space) {
        return Err(KeywordError::InnerWhitespace);
    }
    if trimmed.chars().count() > MAX_KEYWORD_CHARS {
        return Err(KeywordError::TooLong);
    }
    Ok(trimmed.to_string())
}

/// The form keywords are compared in (case folded, NFKC). Two keywords with
/// the same form are the same keyword, so storage can use it as a unique key.
pub fn fold_keyword(word: &str) -> String {
    fold(trim_space(word))
}

/// Finds the keyword that makes up the whole of `text`, if any. `custom` are
/// the workspace's own keywords; invalid ones (see [`validate_custom_keyword`])
/// are ignored. Callers matching many messages against the same custom list
/// can build a [`KeywordSet`] once instead.
pub fn match_keyword(text: &str, custom: &[CustomKeyword]) -> Option<KeywordMatch> {
    if custom.is_empty() {
        BUILTIN_SET.match_text(text)
    } else {
        KeywordSet::new(custom).match_text(text)
    }
}

/// Short confirmation reply in the keyword's language (English when the
/// language has none); `pt-BR`, `PT` and `pt_BR` all count as Portuguese.
/// Languages with a built-in confirmation text (others get English).
pub const CONFIRMATION_LANGUAGES: [&str; 6] = ["en", "es", "fr", "pt", "de", "ja"];

/// The primary subtag of a language tag, lower case: `pt_BR` → `pt`.
pub fn primary_language(tag: &str) -> String {
    tag.split(['-', '_']).next().unwrap_or(tag).to_ascii_lowercase()
}

/// Whether `tag` names a language as replies are kept: two or three ASCII
/// letters (a primary subtag).
pub fn is_reply_language(tag: &str) -> bool {
    (2..=3).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_lowercase())
}

pub fn default_confirmation(kind: KeywordKind, language: Option<&str>) -> &'static str {
    let primary = language.map(primary_language);
    match (primary.as_deref(), kind) {
        (Some("es"), KeywordKind::OptOut) => {
            "Te has dado de baja y no recibirás más mensajes. Responde EMPEZAR para volver a suscribirte."
        }
        (Some("es"), KeywordKind::OptIn) => {
            "Te has suscrito y recibirás nuestros mensajes. Responde ALTO para darte de baja en cualquier momento."
        }
        (Some("fr"), KeywordKind::OptOut) => {
            "Vous êtes désinscrit et ne recevrez plus de messages. Répondez COMMENCER pour vous réinscrire."
        }
        (Some("fr"), KeywordKind::OptIn) => {
            "Vous êtes inscrit et recevrez nos messages. Répondez ARRÊTER pour vous désinscrire à tout moment."
        }
        (Some("pt"), KeywordKind::OptOut) => {
            "Sua inscrição foi cancelada e você não receberá mais mensagens. Responda INICIAR para se inscrever novamente."
        }
        (Some("pt"), KeywordKind::OptIn) => {
            "Sua inscrição foi confirmada e você receberá nossas mensagens. Responda PARAR para cancelar a qualquer momento."
        }
        (Some("de"), KeywordKind::OptOut) => {
            "Sie wurden abgemeldet und erhalten keine Nachrichten mehr. Antworten Sie LOSLEGEN, um sich wieder anzumelden."
        }
        (Some("de"), KeywordKind::OptIn) => {
            "Sie sind angemeldet und erhalten unsere Nachrichten. Antworten Sie BEENDEN, um sich jederzeit abzumelden."
        }
        (Some("ja"), KeywordKind::OptOut) => {
            "配信を停止しました。今後メッセージは届きません。再開するには「開始」と返信してください。"
        }
        (Some("ja"), KeywordKind::OptIn) => {
            "配信を開始しました。停止するには「停止」と返信してください。"
        }
        (_, KeywordKind::OptOut) => {
            "You have been unsubscribed and will receive no more messages. Reply START to subscribe again."
        }
        (_, KeywordKind::OptIn) => {
            "You are subscribed and will receive our messages. Reply STOP to unsubscribe at any time."
        }
    }
}

/// A keyword prepared for comparison.
#[derive(Debug, Clone)]
struct Entry {
    /// Case folded, NFKC.
    key: String,
    /// `key` without accents; only opt-out keywords match this way.
    bare: Option<String>,
    kind: KeywordKind,
    keyword: String,
    language: Option<String>,
}

impl Entry {
    fn new(word: &str, kind: KeywordKind, language: Option<String>) -> Self {
        let key = fold(word);
        let bare = (kind == KeywordKind::OptOut).then(|| strip_accents(&key));
        Entry {
            key,
            bare,
            kind,
            keyword: word.to_string(),
            language,
        }
    }

    fn to_match(&self) -> KeywordMatch {
        KeywordMatch {
            kind: self.kind,
            keyword: self.keyword.clone(),
            language: self.language.clone(),
        }
    }
}

static BUILTIN_ENTRIES: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    BUILTINS
        .iter()
        .map(|b| Entry::new(b.word, b.kind, Some(b.language.to_string())))
        .collect()
});

static BUILTIN_SET: LazyLock<KeywordSet> = LazyLock::new(|| KeywordSet::new(&[]));

/// The built-in keywords plus one workspace's custom ones, folded once so
/// that matching a message only normalises the message.
#[derive(Debug, Clone)]
pub struct KeywordSet {
    custom: Vec<Entry>,
    /// Per built-in keyword: replaced by a custom one with the same form.
    overridden: Vec<bool>,
    /// Longest folded keyword, in characters: longer messages are never one.
    longest: usize,
}

impl KeywordSet {
    /// Invalid custom keywords are skipped; of two custom keywords with the
    /// same folded form, the first one counts.
    pub fn new(custom: &[CustomKeyword]) -> Self {
        let mut entries: Vec<Entry> = Vec::with_capacity(custom.len());
        for c in custom {
            let Ok(word) = validate_custom_keyword(&c.word) else {
                continue;
            };
            let entry = Entry::new(&word, c.kind, c.language.clone());
            if !entries.iter().any(|e| e.key == entry.key) {
                entries.push(entry);
            }
        }
        let overridden = BUILTIN_ENTRIES
            .iter()
            .map(|b| entries.iter().any(|c| c.key == b.key))
            .collect();
        let longest = entries
            .iter()
            .chain(BUILTIN_ENTRIES.iter())
            .map(|e| e.key.chars().count())
            .max()
            .unwrap_or(0);
        KeywordSet {
            custom: entries,
            overridden,
            longest,
        }
    }

    /// Finds the keyword that makes up the whole of `text`, if any.
    pub fn match_text(&self, text: &str) -> Option<KeywordMatch> {
        let trimmed = trim_space(text);
        if trimmed.is_empty() {
            return None;
        }
        let key = fold_bounded(trimmed, self.longest)?;
        // An exact match wins over an accent-insensitive one, so a custom
        // `ARRETER` opt-in is not shadowed by the built-in `ARRÊTER` opt-out.
        if let Some(entry) = self.entries().find(|e| e.key == key) {
            return Some(entry.to_match());
        }
        let bare = strip_accents(&key);
        self.entries()
            .find(|e| e.bare.as_deref() == Some(bare.as_str()))
            .map(Entry::to_match)
    }

    /// Custom keywords first, then the built-ins they do not replace.
    fn entries(&self) -> impl Iterator<Item = &Entry> {
        let builtins = BUILTIN_ENTRIES
            .iter()
            .zip(&self.overridden)
            .filter(|(_, overridden)| !**overridden)
            .map(|(entry, _)| entry);
        self.custom.iter().chain(builtins)
    }
}

/// White space around a keyword: Unicode `White_Space` plus invisible
/// characters that carry no text.
fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

fn trim_space(text: &str) -> &str {
    text.trim_matches(is_space)
}

fn fold(text: &str) -> String {
    fold_bounded(text, usize::MAX).unwrap_or_default()
}

/// Unicode compatibility caseless form (UAX #44 D146, recomposed to NFKC so
/// lengths count user-perceived letters). Stops as soon as the result would
/// exceed `limit` characters: every stage is lazy, so a long message costs
/// no more than a short one.
fn fold_bounded(text: &str, limit: usize) -> Option<String> {
    let mut out = String::new();
    let folded = text.chars().nfd().default_case_fold().nfkd().default_case_fold().nfkc();
    for (count, c) in folded.enumerate() {
        if count >= limit {
            return None;
        }
        out.push(c);
    }
    Some(out)
}

/// Removes accents: the combining diacritical marks that NFKD splits off
/// Latin, Greek and Cyrillic letters. Other scripts' marks (Japanese voicing
/// marks, Indic vowel signs) change the word itself and are kept.
fn strip_accents(key: &str) -> String {
    key.chars().nfkd().filter(|c| !is_accent(*c)).nfc().collect()
}

fn is_accent(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_replys_language_is_the_primary_subtag_of_the_keywords() {
        assert_eq!(primary_language("pt_BR"), "pt");
        assert_eq!(primary_language("ES-mx"), "es");
        assert!(is_reply_language("pt") && is_reply_language("fil"));
        assert!(!is_reply_language("pt_BR") && !is_reply_language("P") && !is_reply_language("PT"));
    }

    use super::*;
    use proptest::prelude::*;

    fn kind_of(text: &str) -> Option<KeywordKind> {
        match_keyword(text, &[]).map(|m| m.kind)
    }

    fn custom(word: &str, kind: KeywordKind, language: Option<&str>) -> CustomKeyword {
        CustomKeyword {
            word: word.to_string(),
            kind,
            language: language.map(str::to_string),
        }
    }

    /// Alternates upper and lower case letter by letter: `sToP`.
    fn mixed_case(word: &str) -> String {
        word.chars()
            .enumerate()
            .flat_map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_lowercase().collect::<Vec<_>>()
                } else {
                    c.to_uppercase().collect::<Vec<_>>()
                }
            })
            .collect()
    }

    const SPACES: &[char] = &[
        ' ', '\t', '\n', '\r', '\u{0B}', '\u{0C}', '\u{85}', '\u{A0}', '\u{1680}', '\u{2003}', '\u{2028}', '\u{202F}',
        '\u{3000}', '\u{200B}', '\u{2060}', '\u{FEFF}',
    ];

    #[test]
    fn every_builtin_keyword_matches_in_upper_lower_and_mixed_case() {
        for b in builtin_keywords() {
            let variants = [b.word.to_uppercase(), b.word.to_lowercase(), mixed_case(b.word)];
            for text in variants {
                let m = match_keyword(&text, &[]).unwrap_or_else(|| panic!("{text:?}"));
                assert_eq!(m.kind, b.kind, "{text:?}");
                assert_eq!(m.keyword, b.word, "{text:?}");
                assert_eq!(m.language.as_deref(), Some(b.language), "{text:?}");
            }
        }
    }

    #[test]
    fn every_builtin_keyword_matches_with_surrounding_whitespace() {
        let wrappers = [
            ("  ", "  "),
            ("\t", "\t"),
            ("\n", "\r\n"),
            ("\u{A0}", "\u{A0}"),
            (" \u{3000}", "\u{200B}\n "),
        ];
        for b in builtin_keywords() {
            for (before, after) in wrappers {
                let text = format!("{before}{}{after}", b.word.to_lowercase());
                assert_eq!(kind_of(&text), Some(b.kind), "{text:?}");
            }
        }
    }

    #[test]
    fn stop_with_spaces_opts_out() {
        assert_eq!(kind_of("  STOP  "), Some(KeywordKind::OptOut));
        assert_eq!(kind_of("stop\n"), Some(KeywordKind::OptOut));
    }

    #[test]
    fn lower_case_parar_opts_out_in_portuguese() {
        let m = match_keyword("parar", &[]).unwrap();
        assert_eq!(m.kind, KeywordKind::OptOut);
        assert_eq!(m.keyword, "PARAR");
        assert_eq!(m.language.as_deref(), Some("pt"));
    }

    #[test]
    fn iniciar_opts_in_in_portuguese() {
        let m = match_keyword("Iniciar", &[]).unwrap();
        assert_eq!(m.kind, KeywordKind::OptIn);
        assert_eq!(m.keyword, "INICIAR");
        assert_eq!(m.language.as_deref(), Some("pt"));
    }

    #[test]
    fn opt_out_keywords_match_with_or_without_accents() {
        for text in [
            "Arrêter",
            "ARRÊTER",
            "ARRETER",
            "arreter",
            "arretér",
            "Arre\u{0302}ter",
            "ÁLTO",
        ] {
            let m = match_keyword(text, &[]).unwrap_or_else(|| panic!("{text:?}"));
            assert_eq!(m.kind, KeywordKind::OptOut, "{text:?}");
        }
        assert_eq!(match_keyword("arreter", &[]).unwrap().keyword, "ARRÊTER");
        assert_eq!(match_keyword("ÁLTO", &[]).unwrap().keyword, "ALTO");
    }

    #[test]
    fn decomposed_input_matches_its_composed_keyword() {
        let m = match_keyword("Arrête\u{0302}r", &[]);
        // Two circumflexes: still the opt-out keyword once accents are removed.
        assert_eq!(m.map(|m| m.keyword).as_deref(), Some("ARRÊTER"));
        let m = match_keyword("Arre\u{0302}ter", &[]).unwrap();
        assert_eq!(m.keyword, "ARRÊTER");
    }

    #[test]
    fn japanese_keywords_match() {
        let stop = match_keyword("停止", &[]).unwrap();
        assert_eq!(stop.kind, KeywordKind::OptOut);
        assert_eq!(stop.language.as_deref(), Some("ja"));
        let start = match_keyword("\u{3000}開始\u{3000}", &[]).unwrap();
        assert_eq!(start.kind, KeywordKind::OptIn);
        assert_eq!(start.keyword, "開始");
    }

    #[test]
    fn full_width_letters_match_under_nfkc() {
        assert_eq!(kind_of("ＳＴＯＰ"), Some(KeywordKind::OptOut));
        assert_eq!(kind_of("ｓｔａｒｔ"), Some(KeywordKind::OptIn));
    }

    #[test]
    fn full_case_folding_matches_sharp_s_and_double_s() {
        let custom = [custom("STRAẞE", KeywordKind::OptOut, Some("de"))];
        for text in ["straße", "STRASSE", "Strasse", "straẞe"] {
            assert_eq!(
                match_keyword(text, &custom).map(|m| m.kind),
                Some(KeywordKind::OptOut),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_message_that_merely_contains_a_keyword_changes_nothing() {
        for text in [
            "can I START getting news?",
            "stop please",
            "please stop",
            "STOP STOP",
            "don't stop",
            "STOPPED",
            "unstoppable",
        ] {
            assert_eq!(kind_of(text), None, "{text:?}");
        }
    }

    #[test]
    fn trailing_or_leading_punctuation_is_not_a_whole_message_keyword() {
        for text in ["STOP.", "STOP!", "stop?", "¡ALTO!", "\"STOP\"", "STOP…", "#STOP"] {
            assert_eq!(kind_of(text), None, "{text:?}");
        }
    }

    #[test]
    fn empty_and_blank_messages_are_not_keywords() {
        assert_eq!(kind_of(""), None);
        assert_eq!(kind_of(" \n\u{A0}\t"), None);
    }

    #[test]
    fn opt_in_keywords_do_not_match_with_an_added_accent() {
        for text in ["EMPÉZAR", "CÓMMENCER", "ÍNICIAR", "stárt", "LOSLÉGEN", "Sta\u{0301}rt"] {
            assert_eq!(kind_of(text), None, "{text:?}");
        }
    }

    #[test]
    fn opt_in_keywords_need_their_own_accents() {
        let custom = [custom("AÑADIR", KeywordKind::OptIn, Some("es"))];
        assert_eq!(
            match_keyword("añadir", &custom).map(|m| m.kind),
            Some(KeywordKind::OptIn)
        );
        assert_eq!(
            match_keyword("an\u{0303}adir", &custom).map(|m| m.kind),
            Some(KeywordKind::OptIn)
        );
        assert_eq!(match_keyword("ANADIR", &custom), None);
    }

    #[test]
    fn custom_keywords_match_with_the_same_rules() {
        let custom = [
            custom("BAJA", KeywordKind::OptOut, Some("es")),
            custom(" ALTA ", KeywordKind::OptIn, Some("es")),
        ];
        let baja = match_keyword(" bája\n", &custom).unwrap();
        assert_eq!(
            baja,
            KeywordMatch {
                kind: KeywordKind::OptOut,
                keyword: "BAJA".into(),
                language: Some("es".into()),
            }
        );
        let alta = match_keyword("Alta", &custom).unwrap();
        assert_eq!(alta.kind, KeywordKind::OptIn);
        assert_eq!(alta.keyword, "ALTA");
        assert_eq!(match_keyword("álta", &custom), None);
        assert_eq!(match_keyword("baja ya", &custom), None);
        // Built-ins still apply next to custom keywords.
        assert_eq!(
            match_keyword("stop", &custom).map(|m| m.kind),
            Some(KeywordKind::OptOut)
        );
    }

    #[test]
    fn custom_keyword_overrides_a_builtin_with_the_same_form() {
        let custom = [custom("alto", KeywordKind::OptIn, Some("es"))];
        let m = match_keyword("ALTO", &custom).unwrap();
        assert_eq!(m.kind, KeywordKind::OptIn);
        assert_eq!(m.keyword, "alto");
        // The replaced built-in no longer matches without accents either.
        assert_eq!(match_keyword("ÁLTO", &custom), None);
    }

    #[test]
    fn exact_custom_keyword_wins_over_an_accent_insensitive_builtin() {
        let custom = [custom("ARRETER", KeywordKind::OptIn, None)];
        assert_eq!(
            match_keyword("arreter", &custom).map(|m| m.kind),
            Some(KeywordKind::OptIn)
        );
        assert_eq!(
            match_keyword("arrêter", &custom).map(|m| m.kind),
            Some(KeywordKind::OptOut)
        );
    }

    #[test]
    fn invalid_custom_keywords_are_ignored() {
        let custom = [custom("STOP NOW", KeywordKind::OptOut, None)];
        assert_eq!(match_keyword("stop now", &custom), None);
    }

    #[test]
    fn texts_longer_than_every_keyword_are_rejected_after_normalisation() {
        let long = "a".repeat(10_000);
        assert_eq!(kind_of(&long), None);
        // 24 characters as typed, 12 once composed: the limit counts the latter.
        let custom = [custom("ÉÉÉÉÉÉÉÉÉÉÉÉ", KeywordKind::OptOut, None)];
        let decomposed = "E\u{0301}".repeat(12);
        assert!(match_keyword(&decomposed, &custom).is_some());
    }

    #[test]
    fn validate_custom_keyword_trims_and_checks_one_short_word() {
        assert_eq!(validate_custom_keyword("  BAJA\n"), Ok("BAJA".into()));
        assert_eq!(validate_custom_keyword(" \t "), Err(KeywordError::Empty));
        assert_eq!(validate_custom_keyword(""), Err(KeywordError::Empty));
        assert_eq!(
            validate_custom_keyword("DAR DE BAJA"),
            Err(KeywordError::InnerWhitespace)
        );
        assert_eq!(
            validate_custom_keyword("DAR\u{A0}BAJA"),
            Err(KeywordError::InnerWhitespace)
        );
        assert_eq!(validate_custom_keyword(&"Ä".repeat(32)), Ok("Ä".repeat(32)));
        assert_eq!(validate_custom_keyword(&"A".repeat(33)), Err(KeywordError::TooLong));
    }

    #[test]
    fn fold_keyword_gives_one_form_per_keyword() {
        assert_eq!(fold_keyword(" ＳＴＯＰ "), fold_keyword("stop"));
        assert_eq!(fold_keyword("Arre\u{0302}ter"), fold_keyword("ARRÊTER"));
        assert_ne!(fold_keyword("ARRETER"), fold_keyword("ARRÊTER"));
    }

    #[test]
    fn builtin_keywords_follow_the_spec_table() {
        let words: Vec<_> = builtin_keywords().iter().map(|b| b.word).collect();
        assert_eq!(words.len(), 19);
        for w in ["UNSTOP", "STOPALL", "ARRÊTER", "LOSLEGEN", "開始", "停止"] {
            assert!(words.contains(&w), "{w}");
        }
        let opt_outs = builtin_keywords()
            .iter()
            .filter(|b| b.kind == KeywordKind::OptOut)
            .count();
        assert_eq!(opt_outs, 11);
    }

    #[test]
    fn keyword_kind_serialises_in_snake_case() {
        assert_eq!(serde_json::to_string(&KeywordKind::OptOut).unwrap(), "\"opt_out\"");
        let parsed: CustomKeyword =
            serde_json::from_str(r#"{"word":"BAJA","kind":"opt_out","language":"es"}"#).unwrap();
        assert_eq!(parsed, custom("BAJA", KeywordKind::OptOut, Some("es")));
    }

    #[test]
    fn default_confirmation_uses_the_keyword_language_with_english_fallback() {
        assert_eq!(
            default_confirmation(KeywordKind::OptOut, Some("en")),
            "You have been unsubscribed and will receive no more messages. Reply START to subscribe again."
        );
        assert!(default_confirmation(KeywordKind::OptOut, Some("pt-BR")).contains("INICIAR"));
        assert!(default_confirmation(KeywordKind::OptIn, Some("ES")).contains("ALTO"));
        assert!(default_confirmation(KeywordKind::OptOut, Some("fr")).contains("COMMENCER"));
        assert!(default_confirmation(KeywordKind::OptIn, Some("de_DE")).contains("BEENDEN"));
        assert!(default_confirmation(KeywordKind::OptOut, Some("ja")).contains("開始"));
        assert_eq!(
            default_confirmation(KeywordKind::OptIn, Some("pl")),
            default_confirmation(KeywordKind::OptIn, None)
        );
    }

    #[test]
    fn every_confirmation_names_a_keyword_that_undoes_it() {
        for language in [None, Some("es"), Some("fr"), Some("pt"), Some("de"), Some("ja")] {
            for kind in [KeywordKind::OptIn, KeywordKind::OptOut] {
                let reply = default_confirmation(kind, language);
                let undo = builtin_keywords()
                    .iter()
                    .any(|b| b.kind != kind && Some(b.language) == language.or(Some("en")) && reply.contains(b.word));
                assert!(undo, "{language:?} {kind:?}: {reply}");
            }
        }
    }

    fn any_builtin() -> impl Strategy<Value = BuiltinKeyword> {
        prop::sample::select(BUILTINS)
    }

    fn any_spaces() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(SPACES), 0..6).prop_map(|v| v.into_iter().collect())
    }

    /// A word with no character the matcher treats as surrounding space.
    fn any_word() -> impl Strategy<Value = String> {
        "[^\\s\u{200B}\u{2060}\u{FEFF}]{1,8}"
    }

    proptest! {
        #[test]
        fn any_keyword_surrounded_by_whitespace_matches(
            b in any_builtin(),
            before in any_spaces(),
            after in any_spaces(),
            upper in prop::collection::vec(any::<bool>(), 12),
        ) {
            let word: String = b.word.chars().zip(upper.iter().cycle()).flat_map(|(c, up)| {
                if *up { c.to_uppercase().collect::<Vec<_>>() } else { c.to_lowercase().collect() }
            }).collect();
            let text = format!("{before}{word}{after}");
            let m = match_keyword(&text, &[]);
            prop_assert_eq!(m.as_ref().map(|m| m.keyword.as_str()), Some(b.word));
            prop_assert_eq!(m.map(|m| m.kind), Some(b.kind));
        }

        #[test]
        fn a_keyword_next_to_another_word_never_matches(
            b in any_builtin(),
            word in any_word(),
            gap in "[ \t\n\u{A0}\u{3000}]{1,3}",
            word_first in any::<bool>(),
        ) {
            let text = if word_first {
                format!("{word}{gap}{}", b.word)
            } else {
                format!("{}{gap}{word}", b.word)
            };
            prop_assert_eq!(match_keyword(&text, &[]), None);
        }

        #[test]
        fn custom_keyword_surrounded_by_whitespace_matches(
            word in "[a-zA-Z0-9À-ÿ]{1,32}",
            before in any_spaces(),
            after in any_spaces(),
            opt_out in any::<bool>(),
        ) {
            let kind = if opt_out { KeywordKind::OptOut } else { KeywordKind::OptIn };
            let list = [custom(&word, kind, None)];
            let text = format!("{before}{}{after}", word.to_uppercase());
            prop_assert_eq!(match_keyword(&text, &list).map(|m| m.kind), Some(kind));
        }
    }
}
