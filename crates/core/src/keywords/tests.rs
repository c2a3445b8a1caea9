use super::*;
use proptest::prelude::*;

#[test]
fn a_replys_language_is_the_primary_subtag_of_the_keywords() {
    assert_eq!(primary_language("pt_BR"), "pt");
    assert_eq!(primary_language("ES-mx"), "es");
    assert!(is_reply_language("pt") && is_reply_language("fil"));
    assert!(!is_reply_language("pt_BR") && !is_reply_language("P") && !is_reply_language("PT"));
}

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
    let parsed: CustomKeyword = serde_json::from_str(r#"{"word":"BAJA","kind":"opt_out","language":"es"}"#).unwrap();
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
