//! Published test vectors: `reference/sms.md` §5 (library test suites) and the classic
//! septet packing examples, cross-checked with an independent packer.

use recado_sms::{analyze, decode, pack_septets, plan, AnalyzeOptions, Encoding, Policy, DATA_CODING_GSM7};

fn gsm(text: &str) -> (Encoding, u32, u32) {
    let a = analyze(text, &AnalyzeOptions::default()).unwrap();
    (a.encoding, a.segments, a.units)
}

fn auto(text: &str) -> (Encoding, u32, u32) {
    let opts = AnalyzeOptions {
        policy: Policy::Auto,
        ..AnalyzeOptions::default()
    };
    let a = analyze(text, &opts).unwrap();
    (a.encoding, a.segments, a.units)
}

/// Units of each part as planned.
fn part_units(text: &str) -> Vec<u32> {
    plan(text, &AnalyzeOptions::default(), 0)
        .unwrap()
        .parts
        .iter()
        .map(|p| p.units)
        .collect()
}

fn part_chars(text: &str) -> Vec<usize> {
    plan(text, &AnalyzeOptions::default(), 0)
        .unwrap()
        .parts
        .iter()
        .map(|p| p.text.chars().count())
        .collect()
}

fn digits(n: usize) -> String {
    "1234567890".chars().cycle().take(n).collect()
}

#[test]
fn twilio_calculator_vectors() {
    assert_eq!(gsm(&digits(160)), (Encoding::Gsm7, 1, 160)); // 1120 bits
    assert_eq!(gsm(&digits(161)), (Encoding::Gsm7, 2, 161)); // 1127 bits
    let p = plan(&digits(161), &AnalyzeOptions::default(), 0).unwrap();
    let udh_bits: usize = p.parts.iter().map(|p| p.udh.len() * 8).sum();
    assert_eq!(161 * 7 + udh_bits, 1223);
    assert_eq!(gsm(&digits(307)).1, 3);
    assert_eq!(gsm(&format!("😜{}", digits(68))), (Encoding::Ucs2, 1, 70));
    assert_eq!(gsm(&format!("😜{}", digits(69))).1, 2);
    assert_eq!(gsm(&format!("🇮🇹{}", digits(66))), (Encoding::Ucs2, 1, 70));
    assert_eq!(gsm(&format!("🏳️‍🌈{}", digits(64))), (Encoding::Ucs2, 1, 70));
    for c in ["|", "^", "€", "{", "}", "[", "]", "~", "\\"] {
        assert_eq!(gsm(&format!("{c}{}", digits(158))), (Encoding::Gsm7, 1, 160), "{c}");
        assert_eq!(gsm(&format!("{c}{}", digits(159))), (Encoding::Gsm7, 2, 161), "{c}");
    }
    for c in ["Á", "Ú", "ú", "ç", "í", "Í", "ó", "Ó"] {
        assert_eq!(auto(&c.repeat(70)), (Encoding::Ucs2, 1, 70), "{c}");
        assert_eq!(auto(&c.repeat(71)).1, 2, "{c}");
    }
    assert_eq!(gsm(&format!("😀{}", "]".repeat(68))), (Encoding::Ucs2, 1, 70));
    assert_eq!(gsm(&format!("😀{}", "]".repeat(69))).1, 2);
}

#[test]
fn smsutil_vectors() {
    assert_eq!(part_units(&"1".repeat(160)), [160]);
    assert_eq!(part_units(&format!("{}{}", "1".repeat(160), "2".repeat(10))), [153, 17]);
    let text = format!("{}{}", "1".repeat(145), "{".repeat(15));
    assert_eq!(part_units(&text), [153, 22]);
    assert_eq!(part_chars(&text), [149, 11]);
    let text = format!("{}{{{}", "1".repeat(152), "1".repeat(12));
    assert_eq!(part_units(&text), [152, 14]);
    assert_eq!(part_chars(&text), [152, 13]);
    let burgers = "🍔".repeat(80);
    assert_eq!(part_chars(&burgers), [33, 33, 14]);
    let p = plan(&burgers, &AnalyzeOptions::default(), 0).unwrap();
    let bytes: Vec<usize> = p.parts.iter().map(|p| p.payload.len()).collect();
    assert_eq!(bytes, [132, 132, 56]);
    assert_eq!(gsm(&"ち".repeat(70)).1, 1);
    assert_eq!(part_units(&format!("{}{}", "ち".repeat(70), "は".repeat(10))), [67, 13]);
}

#[test]
fn split_sms_vectors() {
    assert_eq!(part_units(&digits(160)), [160]);
    assert_eq!(part_units(&digits(161)), [153, 8]);
    assert_eq!(part_units(&digits(306)).len(), 2);
    assert_eq!(part_units(&digits(307)).len(), 3);
    // 160 characters ending in an extension character.
    let text = format!("{}{{", digits(159));
    assert_eq!(part_units(&text), [153, 8]);
    assert_eq!(part_chars(&text), [153, 7]);
    // Extension character at index 152 of 160 characters.
    let text = format!("{}{{{}", digits(152), digits(7));
    assert_eq!(part_units(&text), [152, 9]);
    assert_eq!(part_chars(&text), [152, 8]);
    assert_eq!(part_units(&"{".repeat(80)), [160]);
    assert_eq!(part_units(&"{".repeat(304)), [152, 152, 152, 152]);
    assert_eq!(part_chars(&"{".repeat(304)), [76, 76, 76, 76]);
    let p = plan(&"☃".repeat(70), &AnalyzeOptions::default(), 0).unwrap();
    assert_eq!(p.parts.len(), 1);
    assert_eq!(p.parts[0].payload.len(), 140);
    let p = plan(&"🐳".repeat(35), &AnalyzeOptions::default(), 0).unwrap();
    assert_eq!((p.parts.len(), p.parts[0].payload.len()), (1, 140));
    assert_eq!(part_units(&"☃".repeat(71)), [67, 4]);
    let text = format!("{}🐳{}", "☃".repeat(66), "☃".repeat(3));
    assert_eq!(part_chars(&text), [66, 4]);
    let p = plan(&text, &AnalyzeOptions::default(), 0).unwrap();
    assert_eq!(p.parts[0].payload.len(), 132);
    assert_eq!(p.parts[1].payload.len(), 10);
}

#[test]
fn escape_and_surrogate_boundaries_can_add_a_part() {
    // 306 septets that need 3 parts because the ESC pair cannot be split.
    let text = format!("{}{{{}", "1".repeat(152), "1".repeat(152));
    assert_eq!(part_units(&text), [152, 153, 1]);
    // 134 UCS-2 units that need 3 parts because the surrogate pair cannot be split.
    let text = format!("{}😀{}", "ち".repeat(66), "ち".repeat(66));
    assert_eq!(part_units(&text), [66, 67, 1]);
}

#[test]
fn classic_septet_packing_vectors() {
    let septets = |s: &str| -> Vec<u8> { s.bytes().collect() }; // ASCII letters share codes
    assert_eq!(
        pack_septets(&septets("hellohello"), 0),
        [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
    );
    assert_eq!(
        pack_septets(&septets("How are you?"), 0),
        [0xC8, 0xF7, 0x1D, 0x14, 0x96, 0x97, 0x41, 0xF9, 0x77, 0xFD, 0x07]
    );
    // 7 septets leave 7 spare bits, which carry CR (0x0D) as padding.
    assert_eq!(
        pack_septets(&septets("1234567"), 0),
        [0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x1A]
    );
    // € is ESC 0x65.
    assert_eq!(pack_septets(&[0x1B, 0x65], 0), [0x9B, 0x32]);
}

#[test]
fn planned_parts_carry_the_expected_bytes() {
    let p = plan("hellohello", &AnalyzeOptions::default(), 0).unwrap();
    let part = &p.parts[0];
    assert!(part.udh.is_empty() && !part.udhi);
    assert_eq!(part.data_coding, DATA_CODING_GSM7);
    assert_eq!(part.payload, [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]);
    // A concatenated part: 6-octet header, one fill bit, then the septets.
    let text = format!("{}hellohello", "h".repeat(153));
    let p = plan(&text, &AnalyzeOptions::default(), 0xCC).unwrap();
    let second = &p.parts[1];
    assert_eq!(second.udh, [0x05, 0x00, 0x03, 0xCC, 0x02, 0x02]);
    assert_eq!(second.payload, [0xD0, 0x65, 0x36, 0xFB, 0x8D, 0x2E, 0xB3, 0xD9, 0x6F]);
    assert_eq!(p.parts[0].udh, [0x05, 0x00, 0x03, 0xCC, 0x02, 0x01]);
    assert_eq!(p.parts[0].user_data().len(), 140);
    let decoded = decode(&second.user_data(), second.data_coding, second.udhi).unwrap();
    assert_eq!(decoded.text, "hellohello");
}

#[test]
fn portuguese_single_shift_part_bytes() {
    // "ã" through the Portuguese single shift table: UDH 03 24 01 03 (4 octets,
    // 3 fill bits), then ESC 0x7B.
    let opts = AnalyzeOptions {
        policy: Policy::Auto,
        national_language: Some(recado_sms::NationalLanguage::Pt),
        ..AnalyzeOptions::default()
    };
    let text = format!("ã{}", "ñ".repeat(5)); // ñ rules out the locking table
    let p = plan(&text, &opts, 0).unwrap();
    let part = &p.parts[0];
    assert_eq!(part.udh, [0x03, 0x24, 0x01, 0x03]);
    assert_eq!(&part.septets[..2], &[0x1B, 0x7B]);
    assert_eq!(&pack_septets(&[0x1B, 0x7B], 3), &[0xD8, 0xEC, 0x1B]);
    let decoded = decode(&part.user_data(), part.data_coding, part.udhi).unwrap();
    assert_eq!(decoded.text, text);
}
