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
mod tests;
