//! Property tests of the wire plan: encode, decode and re-join agree with analysis.

use proptest::prelude::*;
use recado_sms::{
    analyze, decode, decode_with, join, plan, AnalyzeOptions, DecodeOptions, Encoding, NationalLanguage, Policy,
    SegmentPlan, USER_DATA_OCTETS,
};

/// Every character of the default alphabet and its extension table.
const GSM: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà\u{000C}^{}\\[~]|€";
/// The Portuguese locking shift table (A.3.3).
const PT_LOCKING: &str = "@£$¥êéúíóç\nÔô\rÁáΔ_ªÇÀ∞^\\€Ó|ÂâÊÉ !\"#º%&'()*+,-./0123456789:;<=>?\
ÍABCDEFGHIJKLMNOPQRSTUVWXYZÃÕÚÜ§~abcdefghijklmnopqrstuvwxyzãõ`üà";
/// The Portuguese single shift table (A.2.3).
const PT_SINGLE: &str = "êç\u{000C}ÔôÁáΦΓ^ΩΠΨΣΘÊ{}\\[~]|ÀÍÓÚÃÕÂ€íóúãõâ";
/// The Spanish single shift table (A.2.2).
const ES_SINGLE: &str = "ç\u{000C}^{}\\[~]|ÁÍÓÚá€íóú";
/// The Turkish locking shift table (A.3.1).
const TR_LOCKING: &str = "@£$¥€éùıòÇ\nĞğ\rÅåΔ_ΦΓΛΩΠΨΣΘΞŞşßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
İABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§çabcdefghijklmnopqrstuvwxyzäöñüà";
/// The Turkish single shift table (A.2.1).
const TR_SINGLE: &str = "\u{000C}^{}\\[~]|ĞİŞç€ğış";
/// The default extension table.
const DEFAULT_EXTENSION: &str = "\u{000C}^{}\\[~]|€";
/// The default alphabet without its extension table.
const DEFAULT_LOCKING: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Text drawn from one locking table and one single shift table of a language.
fn national_text() -> impl Strategy<Value = (NationalLanguage, String)> {
    use NationalLanguage::{Es, Pt, Tr};
    let sets: Vec<(NationalLanguage, &'static str)> = [
        (Pt, DEFAULT_LOCKING, PT_SINGLE),
        (Pt, PT_LOCKING, DEFAULT_EXTENSION),
        (Pt, PT_LOCKING, PT_SINGLE),
        (Es, DEFAULT_LOCKING, ES_SINGLE),
        (Tr, DEFAULT_LOCKING, TR_SINGLE),
        (Tr, TR_LOCKING, DEFAULT_EXTENSION),
        (Tr, TR_LOCKING, TR_SINGLE),
    ]
    .into_iter()
    .map(|(l, locking, single)| (l, &*Box::leak(format!("{locking}{single}").into_boxed_str())))
    .collect();
    prop::sample::select(sets).prop_flat_map(|(language, chars)| (Just(language), text_from(chars, 400)))
}

fn text_from(alphabet: &'static str, max: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = alphabet.chars().collect();
    prop::collection::vec(prop::sample::select(chars), 1..max).prop_map(|v| v.into_iter().collect())
}

/// GSM text, sometimes with long runs so that part boundaries get exercised.
fn gsm_text() -> impl Strategy<Value = String> {
    prop_oneof![
        text_from(GSM, 400),
        (text_from(GSM, 8), 140usize..330, text_from(GSM, 20)).prop_map(|(a, n, b)| format!("{a}{}{b}", "x".repeat(n))),
    ]
}

/// Checks every invariant of a plan and returns the re-joined decoded text.
fn check_plan(p: &SegmentPlan) -> String {
    let a = &p.analysis;
    assert_eq!(a.segments as usize, p.parts.len(), "segments == parts");
    assert_eq!(
        p.parts.iter().map(|part| part.units).sum::<u32>(),
        a.units,
        "units add up"
    );
    let whole: String = p.parts.iter().map(|part| part.text.as_str()).collect();
    assert_eq!(whole, a.text, "parts re-joined equal the whole");
    let mut decoded = Vec::new();
    for part in &p.parts {
        let user_data = part.user_data();
        assert!(user_data.len() <= USER_DATA_OCTETS as usize, "140 octets at most");
        assert!(part.units <= a.units_per_segment, "part within capacity");
        assert_eq!(part.udhi, !part.udh.is_empty());
        assert_eq!(part.data_coding, a.encoding.data_coding());
        let exact = decode_with(
            &user_data,
            part.data_coding,
            part.udhi,
            DecodeOptions {
                user_data_length: Some(part.user_data_length()),
                ..DecodeOptions::default()
            },
        )
        .unwrap();
        assert_eq!(exact.text, part.text, "decode(encode(part)) with TP-UDL");
        assert_eq!(exact.shift_tables, a.shift_tables);
        let by_octets = decode(&user_data, part.data_coding, part.udhi).unwrap();
        // Without TP-UDL a final CR that ends exactly on an octet boundary reads as
        // padding (§6.1.2.3.1); the same bits are sent for the text without it.
        let boundary_cr = a.encoding == Encoding::Gsm7
            && part.text.ends_with('\r')
            && part.user_data_length() as usize * 7 == user_data.len() * 8;
        if boundary_cr {
            assert_eq!(by_octets.text, part.text[..part.text.len() - 1]);
        } else {
            assert_eq!(by_octets.text, part.text, "decode(encode(part)) from octets");
        }
        if p.parts.len() > 1 {
            let c = exact.concatenation().unwrap();
            assert_eq!((c.total as usize, c.sequence), (p.parts.len(), part.sequence));
        } else {
            assert!(exact.concatenation().is_none());
        }
        decoded.push(exact);
    }
    decoded.reverse(); // joining must not depend on arrival order
    join(&decoded).unwrap()
}

fn auto(language: Option<NationalLanguage>) -> AnalyzeOptions {
    AnalyzeOptions {
        policy: Policy::Auto,
        national_language: language,
        ..AnalyzeOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn gsm_text_round_trips_through_encode_and_decode(text in gsm_text(), reference: u8) {
        let p = plan(&text, &auto(None), reference).unwrap();
        prop_assert_eq!(p.analysis.encoding, Encoding::Gsm7);
        prop_assert_eq!(check_plan(&p), text);
    }

    #[test]
    fn national_text_round_trips_through_encode_and_decode((language, text) in national_text()) {
        let p = plan(&text, &auto(Some(language)), 42).unwrap();
        prop_assert_eq!(p.analysis.encoding, Encoding::Gsm7);
        prop_assert_eq!(check_plan(&p), text);
    }

    #[test]
    fn any_text_plans_within_capacity_under_both_policies(
        text in "(?s).{1,500}",
        transliterate: bool,
        language in prop::option::of(prop_oneof![
            Just(NationalLanguage::Pt), Just(NationalLanguage::Es), Just(NationalLanguage::Tr)
        ]),
    ) {
        let opts = AnalyzeOptions {
            policy: if transliterate { Policy::Transliterate } else { Policy::Auto },
            national_language: language,
            ..AnalyzeOptions::default()
        };
        let p = plan(&text, &opts, 7).unwrap();
        let joined = check_plan(&p);
        prop_assert_eq!(&joined, &p.analysis.text);
        if p.analysis.encoding == Encoding::Ucs2 || !transliterate {
            prop_assert_eq!(&p.analysis.text, &text);
        }
        prop_assert_eq!(analyze(&text, &opts).unwrap(), p.analysis);
    }

    #[test]
    fn segments_count_matches_capacity_arithmetic_for_plain_text(n in 1usize..2000) {
        let a = analyze(&"a".repeat(n), &AnalyzeOptions::default()).unwrap();
        let expected = if n <= 160 { 1 } else { n.div_ceil(153) as u32 };
        prop_assert_eq!(a.segments, expected);
    }
}
