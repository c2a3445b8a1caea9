//! The acceptance rules of SPEC §5 and the SMS analysis issue, one test per rule.

use recado_sms::{
    analyze, plan, Analysis, AnalyzeError, AnalyzeOptions, Encoding, NationalLanguage, Policy, Replacement, ShiftTables,
};

fn run(text: &str) -> Analysis {
    analyze(text, &AnalyzeOptions::default()).unwrap()
}

fn with(text: &str, policy: Policy, language: Option<NationalLanguage>) -> Analysis {
    let opts = AnalyzeOptions {
        policy,
        national_language: language,
        ..AnalyzeOptions::default()
    };
    analyze(text, &opts).unwrap()
}

fn replaced(pairs: &[(&str, &str)]) -> Vec<Replacement> {
    pairs
        .iter()
        .map(|(from, to)| Replacement {
            from: from.to_string(),
            to: to.to_string(),
        })
        .collect()
}

#[test]
fn gsm7_160_plain_chars_fit_one_segment_and_161_need_two() {
    let a = run(&"a".repeat(160));
    assert_eq!((a.encoding, a.segments, a.units), (Encoding::Gsm7, 1, 160));
    assert_eq!((a.units_per_segment, a.remaining_in_segment), (160, 0));
    let a = run(&"a".repeat(161));
    assert_eq!((a.segments, a.units), (2, 161));
    assert_eq!((a.units_per_segment, a.remaining_in_segment), (153, 145));
}

#[test]
fn gsm7_306_plain_chars_need_two_segments_and_307_need_three() {
    let a = run(&"x".repeat(306));
    assert_eq!((a.segments, a.remaining_in_segment), (2, 0));
    let a = run(&"x".repeat(307));
    assert_eq!((a.segments, a.remaining_in_segment), (3, 152));
}

#[test]
fn gsm7_152_chars_plus_euro_need_two_segments_without_splitting_the_escape() {
    // Alone, 152 + € is 154 septets and fits one 160-septet SMS.
    let a = run(&format!("{}€", "a".repeat(152)));
    assert_eq!((a.encoding, a.units, a.segments), (Encoding::Gsm7, 154, 1));
    // Once the message is concatenated (here 7 more characters: 161 septets), the
    // first part has room for 153 septets; after 152 characters only one is left, so
    // the ESC pair moves whole to part 2 and part 1 carries 152.
    let text = format!("{}€{}", "a".repeat(152), "b".repeat(7));
    let a = run(&text);
    assert_eq!((a.units, a.segments), (161, 2));
    assert_eq!(a.remaining_in_segment, 153 - 9);
    let p = plan(&text, &AnalyzeOptions::default(), 7).unwrap();
    assert_eq!(p.parts.len(), 2);
    assert_eq!(p.parts[0].units, 152);
    assert_eq!(p.parts[0].text, "a".repeat(152));
    assert_eq!(&p.parts[1].septets[..2], &[0x1B, 0x65]);
    assert_eq!(p.parts[1].text, "€bbbbbbb");
    assert_eq!(p.parts[1].units, 9);
}

#[test]
fn extension_characters_cost_two_septets() {
    let a = run("^{}\\[~]|€\u{000C}");
    assert_eq!((a.encoding, a.units), (Encoding::Gsm7, 20));
}

#[test]
fn ucs2_70_units_fit_one_segment_and_71_need_two() {
    let a = run(&"ち".repeat(70));
    assert_eq!((a.encoding, a.segments, a.units), (Encoding::Ucs2, 1, 70));
    assert_eq!((a.units_per_segment, a.remaining_in_segment), (70, 0));
    let a = run(&"ち".repeat(71));
    assert_eq!((a.segments, a.units_per_segment, a.remaining_in_segment), (2, 67, 63));
}

#[test]
fn ucs2_emoji_straddling_the_67_unit_boundary_moves_whole_to_next_part() {
    let text = format!("{}😀{}", "ち".repeat(66), "ち".repeat(3));
    let a = run(&text);
    assert_eq!((a.encoding, a.units, a.segments), (Encoding::Ucs2, 71, 2));
    let p = plan(&text, &AnalyzeOptions::default(), 1).unwrap();
    assert_eq!(p.parts[0].units, 66);
    assert_eq!(p.parts[1].units, 5);
    assert_eq!(p.parts[1].text, "😀ちちち");
    assert_eq!(&p.parts[1].payload[..4], &[0xD8, 0x3D, 0xDE, 0x00]);
}

#[test]
fn transliterate_policy_sends_portuguese_promotion_in_gsm7() {
    let a = run("Promoção válida até amanhã");
    assert_eq!(a.encoding, Encoding::Gsm7);
    assert_eq!(a.text, "PromoÇao valida até amanha");
    assert_eq!(a.replaced, replaced(&[("ç", "Ç"), ("ã", "a"), ("á", "a")]));
    assert_eq!((a.segments, a.units, a.units_per_segment), (1, 26, 160));
    assert!(a.ucs2_chars.is_empty());
    assert_eq!(a.national_language, None);
}

#[test]
fn auto_policy_sends_portuguese_promotion_in_ucs2() {
    let a = with("Promoção válida até amanhã", Policy::Auto, None);
    assert_eq!(a.encoding, Encoding::Ucs2);
    assert_eq!(a.text, "Promoção válida até amanhã");
    assert_eq!((a.segments, a.units, a.units_per_segment), (1, 26, 70));
    assert_eq!(a.ucs2_chars, ["ç", "ã", "á"]);
    assert!(a.replaced.is_empty());
}

#[test]
fn portuguese_tables_keep_the_accents_and_count_the_shift_header() {
    for policy in [Policy::Transliterate, Policy::Auto] {
        let a = with("Promoção válida até amanhã", policy, Some(NationalLanguage::Pt));
        assert_eq!(a.encoding, Encoding::Gsm7, "{policy:?}");
        assert_eq!(a.text, "Promoção válida até amanhã");
        assert!(a.replaced.is_empty());
        assert_eq!(a.national_language, Some(NationalLanguage::Pt));
        // The locking table carries every accent in one septet; its 4-octet header
        // leaves 155 septets in a lone message.
        assert_eq!(a.shift_tables.locking, Some(NationalLanguage::Pt));
        assert_eq!((a.units, a.units_per_segment, a.remaining_in_segment), (26, 155, 129));
    }
}

#[test]
fn portuguese_shift_header_is_on_the_wire_of_a_single_part() {
    let opts = AnalyzeOptions {
        national_language: Some(NationalLanguage::Pt),
        ..AnalyzeOptions::default()
    };
    let p = plan("Promoção válida até amanhã", &opts, 0).unwrap();
    assert_eq!(p.parts.len(), 1);
    assert_eq!(p.parts[0].udh, [0x03, 0x25, 0x01, 0x03]);
    assert!(p.parts[0].udhi);
    assert_eq!(p.parts[0].esm_class(), 0x40);
}

#[test]
fn national_tables_are_not_used_when_plain_gsm7_is_as_cheap() {
    let a = with("Hello, world!", Policy::Transliterate, Some(NationalLanguage::Pt));
    assert_eq!(a.national_language, None);
    assert_eq!(a.shift_tables, ShiftTables::DEFAULT);
    assert_eq!(a.units_per_segment, 160);
}

#[test]
fn national_tables_are_used_when_they_save_a_segment() {
    // 145 + 10 × 2 = 165 septets: two parts in the default alphabet; the Portuguese
    // locking table carries € in one septet: 155 septets, one part of 155.
    let text = format!("{}{}", "a".repeat(145), "€".repeat(10));
    let plain = with(&text, Policy::Transliterate, None);
    assert_eq!(plain.segments, 2);
    let pt = with(&text, Policy::Transliterate, Some(NationalLanguage::Pt));
    assert_eq!((pt.segments, pt.units, pt.units_per_segment), (1, 155, 155));
    assert_eq!(pt.shift_tables.locking, Some(NationalLanguage::Pt));
}

#[test]
fn national_tables_are_not_used_when_they_cost_a_segment() {
    // 150 septets fit one plain SMS after transliteration; with the shift header
    // (155 septets, accents costing 2) the text needs two parts.
    let text = format!("{}ãããããã", "b".repeat(150));
    let a = with(&text, Policy::Transliterate, Some(NationalLanguage::Es));
    assert_eq!((a.segments, a.national_language), (1, None));
    assert_eq!(a.text, format!("{}aaaaaa", "b".repeat(150)));
}

#[test]
fn spanish_single_shift_keeps_acute_accents() {
    let a = with(
        "¿Cuántos años? Ñandú",
        Policy::Transliterate,
        Some(NationalLanguage::Es),
    );
    assert_eq!(a.encoding, Encoding::Gsm7);
    assert_eq!(a.text, "¿Cuántos años? Ñandú");
    assert_eq!(a.national_language, Some(NationalLanguage::Es));
    assert_eq!(a.shift_tables.single, Some(NationalLanguage::Es));
    assert_eq!(a.shift_tables.locking, None);
    // á and ú cost two septets each.
    assert_eq!((a.units, a.units_per_segment), (22, 155));
}

#[test]
fn turkish_tables_carry_turkish_letters() {
    let a = with(
        "Şişli'de büyük indirim: ğ ı İ ç",
        Policy::Auto,
        Some(NationalLanguage::Tr),
    );
    assert_eq!(a.encoding, Encoding::Gsm7);
    assert_eq!(a.national_language, Some(NationalLanguage::Tr));
    let plain = run("Şişli'de büyük indirim: ğ ı İ ç");
    assert_eq!(plain.text, "Sisli'de büyük indirim: g i I Ç");
}

#[test]
fn both_national_tables_are_chosen_when_cheapest() {
    // ã costs 1 in the Portuguese locking table, which lacks Φ; the Portuguese
    // single shift table has Φ. Single shift alone: 301 septets, 3 parts; locking
    // alone cannot carry Φ; both: 152 septets, exactly one part of 152.
    let text = format!("{}Φ", "ã".repeat(150));
    let a = with(&text, Policy::Auto, Some(NationalLanguage::Pt));
    assert_eq!(a.encoding, Encoding::Gsm7);
    assert_eq!(
        a.shift_tables,
        ShiftTables {
            single: Some(NationalLanguage::Pt),
            locking: Some(NationalLanguage::Pt),
        }
    );
    assert_eq!(
        (a.segments, a.units, a.units_per_segment, a.remaining_in_segment),
        (1, 152, 152, 0)
    );
    let p = plan(
        &text,
        &AnalyzeOptions {
            policy: Policy::Auto,
            national_language: Some(NationalLanguage::Pt),
            ..AnalyzeOptions::default()
        },
        0,
    )
    .unwrap();
    assert_eq!(p.parts[0].udh, [0x06, 0x24, 0x01, 0x03, 0x25, 0x01, 0x03]);
    assert_eq!(p.parts[0].user_data().len(), 140);
}

#[test]
fn six_segments_exceed_a_max_of_five() {
    let a = run(&"z".repeat(6 * 153));
    assert_eq!(a.segments, 6);
    assert!(a.exceeds_max_segments);
    let a = run(&"z".repeat(5 * 153));
    assert_eq!(a.segments, 5);
    assert!(!a.exceeds_max_segments);
    let opts = AnalyzeOptions {
        max_segments: 6,
        ..AnalyzeOptions::default()
    };
    assert!(!analyze(&"z".repeat(6 * 153), &opts).unwrap().exceeds_max_segments);
}

#[test]
fn empty_text_is_an_error() {
    assert_eq!(analyze("", &AnalyzeOptions::default()), Err(AnalyzeError::EmptyText));
    assert_eq!(AnalyzeError::EmptyText.to_string(), "text is empty");
}

#[test]
fn unmappable_characters_force_ucs2_on_the_original_text() {
    let a = run("Olá 😀 amigo “😀” 🎉");
    assert_eq!(a.encoding, Encoding::Ucs2);
    assert_eq!(a.text, "Olá 😀 amigo “😀” 🎉");
    assert!(a.replaced.is_empty());
    assert_eq!(a.ucs2_chars, ["😀", "🎉"]);
    assert_eq!(a.units, 20);
}

#[test]
fn ucs2_culprits_ignore_characters_the_chosen_national_language_carries() {
    let a = with("Olá 😀", Policy::Auto, Some(NationalLanguage::Pt));
    assert_eq!(a.encoding, Encoding::Ucs2);
    assert_eq!(a.ucs2_chars, ["😀"]);
    assert_eq!(a.national_language, None);
}

#[test]
fn typographic_punctuation_and_spaces_are_transliterated() {
    let a = run("“Oferta” – só\u{00A0}hoje…\u{200B}");
    assert_eq!(a.encoding, Encoding::Gsm7);
    assert_eq!(a.text, "\"Oferta\" - so hoje...");
    assert_eq!(
        a.replaced,
        replaced(&[
            ("“", "\""),
            ("”", "\""),
            ("–", "-"),
            ("ó", "o"),
            ("\u{00A0}", " "),
            ("…", "..."),
            ("\u{200B}", ""),
        ])
    );
    assert_eq!(a.units, 21);
}

#[test]
fn gsm_characters_are_never_transliterated() {
    let a = run("é è ù ì ò Ç Ø ø Å å Ä Ö Ñ Ü ä ö ñ ü à ß É Δ € ¿ ¡ £ ¥ §");
    assert_eq!(a.encoding, Encoding::Gsm7);
    assert!(a.replaced.is_empty());
}

#[test]
fn decomposed_accents_are_composed_before_transliteration() {
    let a = run("Promoc\u{0327}a\u{0303}o cafe\u{0301}");
    assert_eq!(a.encoding, Encoding::Gsm7);
    assert_eq!(a.text, "PromoÇao café");
    assert_eq!(
        a.replaced,
        replaced(&[("c\u{0327}", "Ç"), ("a\u{0303}", "a"), ("e\u{0301}", "é")])
    );
}

#[test]
fn analysis_serializes_to_the_api_shape() {
    let a = with("Olá 😀", Policy::Auto, None);
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "encoding": "UCS-2",
            "segments": 1,
            "units": 6,
            "units_per_segment": 70,
            "remaining_in_segment": 64,
            "text": "Olá 😀",
            "replaced": [],
            "ucs2_chars": ["á", "😀"],
            "national_language": null,
            "exceeds_max_segments": false
        })
    );
    let a = with("Promoção", Policy::Transliterate, Some(NationalLanguage::Pt));
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["encoding"], "GSM-7");
    assert_eq!(json["national_language"], "pt");
    let a = run("ação");
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(
        json["replaced"],
        serde_json::json!([{"from": "ç", "to": "Ç"}, {"from": "ã", "to": "a"}])
    );
}

#[test]
fn options_deserialize_with_defaults() {
    let opts: AnalyzeOptions = serde_json::from_str(r#"{"national_language": "pt"}"#).unwrap();
    assert_eq!(opts.policy, Policy::Transliterate);
    assert_eq!(opts.national_language, Some(NationalLanguage::Pt));
    assert_eq!(opts.max_segments, 5);
    let opts: AnalyzeOptions = serde_json::from_str(r#"{"policy": "auto", "max_segments": 3}"#).unwrap();
    assert_eq!((opts.policy, opts.max_segments), (Policy::Auto, 3));
}
