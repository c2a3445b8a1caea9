//! Fuzz target: analyze + plan + decode round trip on arbitrary UTF-8.
//!
//! The first byte picks the options (policy, national language, part limit); the
//! rest, when it is valid UTF-8, is the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use recado_sms::{
    analyze, decode, decode_with, join, plan, AnalyzeError, AnalyzeOptions, DecodeOptions,
    Encoding, NationalLanguage, PlanError, Policy, USER_DATA_OCTETS,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let opts = AnalyzeOptions {
        policy: if selector & 1 == 0 {
            Policy::Transliterate
        } else {
            Policy::Auto
        },
        national_language: match (selector >> 1) & 3 {
            0 => None,
            1 => Some(NationalLanguage::Pt),
            2 => Some(NationalLanguage::Es),
            _ => Some(NationalLanguage::Tr),
        },
        max_segments: (selector >> 3) as u32,
    };

    let analysis = match analyze(text, &opts) {
        Ok(a) => a,
        Err(AnalyzeError::EmptyText) => {
            assert!(text.is_empty());
            return;
        }
    };
    assert!(analysis.segments >= 1);
    assert!(analysis.remaining_in_segment <= analysis.units_per_segment);
    assert!(analysis.units <= analysis.segments * analysis.units_per_segment);
    assert_eq!(analysis.exceeds_max_segments, analysis.segments > opts.max_segments);
    match analysis.encoding {
        Encoding::Ucs2 => {
            assert_eq!(analysis.text, text);
            assert!(analysis.replaced.is_empty());
            assert!(!analysis.ucs2_chars.is_empty());
            assert_eq!(analysis.units as usize, text.encode_utf16().count());
        }
        Encoding::Gsm7 => {
            assert!(analysis.ucs2_chars.is_empty());
            if opts.policy == Policy::Auto {
                assert_eq!(analysis.text, text);
            }
            if analysis.national_language.is_some() {
                assert_eq!(analysis.national_language, opts.national_language);
            }
        }
    }

    let plan = match plan(text, &opts, selector) {
        Ok(p) => p,
        Err(PlanError::TooManyParts { parts }) => {
            assert!(parts > 255);
            return;
        }
        Err(e) => panic!("unexpected plan error {e}"),
    };
    assert_eq!(plan.analysis, analysis);
    assert_eq!(plan.parts.len() as u32, analysis.segments);
    let mut decoded = Vec::with_capacity(plan.parts.len());
    let mut units = 0;
    for part in &plan.parts {
        let user_data = part.user_data();
        assert!(user_data.len() <= USER_DATA_OCTETS as usize);
        assert!(part.units <= analysis.units_per_segment);
        units += part.units;
        let exact = decode_with(
            &user_data,
            part.data_coding,
            part.udhi,
            DecodeOptions {
                user_data_length: Some(part.user_data_length()),
                ..DecodeOptions::default()
            },
        )
        .expect("own parts decode");
        assert_eq!(exact.text, part.text);
        // Decoding from the octet count alone must also work (a final CR on an octet
        // boundary is read as padding, which is the only allowed difference).
        let loose = decode(&user_data, part.data_coding, part.udhi).expect("own parts decode");
        if loose.text != part.text {
            assert_eq!(format!("{}\r", loose.text), part.text);
        }
        decoded.push(exact);
    }
    assert_eq!(units, analysis.units);
    decoded.reverse();
    assert_eq!(join(&decoded).expect("own parts join"), analysis.text);
});
