//! Decoding user data and re-joining parts (inbound SMS and encoder checks).

use recado_sms::{
    decode, decode_with, join, plan, AnalyzeOptions, Charset, DecodeError, DecodeOptions, Gsm7Layout, JoinError,
    NationalLanguage,
};

fn ucs2_part(reference: u8, total: u8, sequence: u8, units: &[u16]) -> Vec<u8> {
    let mut ud = vec![0x05, 0x00, 0x03, reference, total, sequence];
    ud.extend(units.iter().flat_map(|u| u.to_be_bytes()));
    ud
}

#[test]
fn concatenated_parts_rejoin_in_any_order() {
    let text = "Promoção válida até amanhã! ".repeat(12);
    let p = plan(&text, &AnalyzeOptions::default(), 0x5A).unwrap();
    assert!(p.parts.len() > 1);
    let mut parts: Vec<_> = p
        .parts
        .iter()
        .map(|part| decode(&part.user_data(), part.data_coding, part.udhi).unwrap())
        .collect();
    parts.rotate_left(1);
    assert_eq!(join(&parts).unwrap(), p.analysis.text);
    let c = parts[0].concatenation().unwrap();
    assert_eq!((c.reference, c.total), (0x5A, p.parts.len() as u8));
}

#[test]
fn join_mends_a_surrogate_pair_split_by_the_sender() {
    // 😀 is D83D DE00; a non-compliant sender put the halves in different parts.
    let first = decode(&ucs2_part(9, 2, 1, &[0x0041, 0xD83D]), 0x08, true).unwrap();
    let second = decode(&ucs2_part(9, 2, 2, &[0xDE00, 0x0042]), 0x08, true).unwrap();
    assert_eq!(first.charset, Charset::Ucs2);
    assert_eq!(join(&[second, first]).unwrap(), "A😀B");
}

#[test]
fn join_refuses_incomplete_or_mixed_messages() {
    let one = decode(&ucs2_part(1, 3, 1, &[0x41]), 0x08, true).unwrap();
    let two = decode(&ucs2_part(1, 3, 2, &[0x42]), 0x08, true).unwrap();
    let other = decode(&ucs2_part(2, 3, 3, &[0x43]), 0x08, true).unwrap();
    assert_eq!(
        join(&[one.clone(), two.clone()]),
        Err(JoinError::WrongPartCount { expected: 3, found: 2 })
    );
    assert_eq!(join(&[one.clone(), two.clone(), other]), Err(JoinError::MixedMessages));
    assert_eq!(join(&[one.clone(), one.clone(), two]), Err(JoinError::DuplicatePart(1)));
    assert_eq!(join(&[]), Err(JoinError::Empty));
    let lone = decode(b"hi", 0x03, false).unwrap();
    assert_eq!(join(&[lone]).unwrap(), "hi");
}

#[test]
fn national_language_headers_select_the_decoding_tables() {
    // PT locking (IE 0x25): code 0x7B is ã instead of ä.
    let ud = [0x03, 0x25, 0x01, 0x03, 0xD8, 0x03]; // 3 fill bits, then 0x7B
    let d = decode_with(
        &ud,
        0x00,
        true,
        DecodeOptions {
            user_data_length: Some(6),
            ..DecodeOptions::default()
        },
    )
    .unwrap();
    assert_eq!(d.text, "ã");
    assert_eq!(d.shift_tables.locking, Some(NationalLanguage::Pt));
    let ud = [0x03, 0x25, 0x01, 0x06, 0x00];
    assert_eq!(
        decode(&ud, 0x00, true),
        Err(DecodeError::UnsupportedNationalLanguage(0x06))
    );
}

#[test]
fn unpacked_gsm_is_read_one_septet_per_octet() {
    let options = DecodeOptions {
        gsm7_layout: Gsm7Layout::Unpacked,
        ..DecodeOptions::default()
    };
    let d = decode_with(&[0x48, 0x69, 0x1B, 0x65, 0x09], 0x00, false, options).unwrap();
    assert_eq!(d.text, "Hi€Ç");
    assert_eq!(
        decode_with(&[0x48, 0x80], 0x00, false, options),
        Err(DecodeError::InvalidSeptet(0x80))
    );
}

#[test]
fn escape_without_single_shift_entry_shows_the_base_character() {
    // ESC 0x41 has no extension entry: the handset shows 'A' (TS 23.038 §6.2.1.1).
    let options = DecodeOptions {
        gsm7_layout: Gsm7Layout::Unpacked,
        ..DecodeOptions::default()
    };
    assert_eq!(decode_with(&[0x1B, 0x41], 0x00, false, options).unwrap().text, "A");
}

#[test]
fn data_coding_values_are_classified() {
    assert_eq!(decode(b"caf\xE9", 0x03, false).unwrap().text, "café");
    assert_eq!(decode(b"ok", 0x01, false).unwrap().text, "ok");
    assert_eq!(decode(&[0x00, 0xE9], 0x08, false).unwrap().text, "é");
    assert_eq!(decode(&[0x00, 0xE9], 0x18, false).unwrap().charset, Charset::Ucs2);
    assert_eq!(decode(&[0xC8, 0x34], 0xF0, false).unwrap().text, "Hi");
    assert_eq!(
        decode(&[0x00], 0x04, false),
        Err(DecodeError::UnsupportedDataCoding(0x04))
    );
    assert_eq!(
        decode(&[0x00, 0x41, 0x00], 0x08, false),
        Err(DecodeError::OddUcs2Length)
    );
    assert_eq!(
        decode(&[0x05, 0x00, 0x03], 0x00, true),
        Err(DecodeError::MalformedHeader)
    );
}
