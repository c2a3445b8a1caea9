//! SMS engine parts as `submit_sm` fields.
//!
//! GSM 7-bit text goes **unpacked**: one septet per octet in `short_message` after the UDH,
//! with `data_coding` 0. SMPP 3.4 §5.2.19 leaves the layout of the SMSC default alphabet to
//! the SMSC, and the SMSCs Recado targets read it one septet per octet and pack it themselves
//! for the air interface (the node `smpp` SMSC of the interop test decodes `data_coding` 0 that
//! way, as do Kannel, Jasmin and `rusmpp-extra`'s GSM encoder). Packed septets would arrive
//! as garbage there. The cost is octets on the SMPP link only: a full concatenated part is
//! 6 + 153 = 159 octets, well within `short_message`'s 254. UCS-2 goes as UTF-16 big-endian
//! with `data_coding` 8. The UDH (concatenation and national language shift elements) is the
//! engine's, unchanged, and announces itself with the UDHI bit of `esm_class`.

use recado_sms::{SegmentPlan, DATA_CODING_GSM7};

/// Most octets of `short_message` in a `submit_sm`.
pub const MAX_SHORT_MESSAGE: usize = 254;

/// One `submit_sm` worth of message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitPart {
    /// `esm_class`: 0x40 (UDHI) when `short_message` starts with a user data header.
    pub esm_class: u8,
    /// `data_coding`: 0x00 GSM 7-bit (unpacked), 0x08 UCS-2.
    pub data_coding: u8,
    /// UDH then user data.
    pub short_message: Vec<u8>,
}

/// One [`SubmitPart`] per part of the plan, in order.
pub fn parts_from_plan(plan: &SegmentPlan) -> Vec<SubmitPart> {
    plan.parts
        .iter()
        .map(|part| {
            let body = if part.data_coding == DATA_CODING_GSM7 {
                &part.septets
            } else {
                &part.payload
            };
            let mut short_message = Vec::with_capacity(part.udh.len() + body.len());
            short_message.extend_from_slice(&part.udh);
            short_message.extend_from_slice(body);
            SubmitPart {
                esm_class: part.esm_class(),
                data_coding: part.data_coding,
                short_message,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use recado_sms::{decode_with, join, plan, AnalyzeOptions, DecodeOptions, Gsm7Layout};

    fn round_trip(text: &str) -> (Vec<SubmitPart>, String) {
        let plan = plan(text, &AnalyzeOptions::default(), 42).unwrap();
        let parts = parts_from_plan(&plan);
        let options = DecodeOptions {
            gsm7_layout: Gsm7Layout::Unpacked,
            user_data_length: None,
        };
        let decoded: Vec<_> = parts
            .iter()
            .map(|p| decode_with(&p.short_message, p.data_coding, p.esm_class & 0x40 != 0, options).unwrap())
            .collect();
        (parts, join(&decoded).unwrap())
    }

    #[test]
    fn gsm_parts_are_unpacked_septets_after_the_udh() {
        let text = "Olá {Ana}! ".repeat(30);
        let (parts, back) = round_trip(&text);
        assert_eq!(parts.len(), 3);
        for (i, p) in parts.iter().enumerate() {
            assert_eq!(p.esm_class, 0x40);
            assert_eq!(p.data_coding, 0x00);
            assert_eq!(&p.short_message[..6], &[0x05, 0x00, 0x03, 42, 3, i as u8 + 1]);
            assert!(p.short_message[6..].iter().all(|&b| b < 0x80));
            assert!(p.short_message.len() <= 6 + 153);
        }
        assert_eq!(back, text.replace('á', "a"));
    }

    #[test]
    fn a_single_part_has_no_header() {
        let (parts, back) = round_trip("Hello");
        assert_eq!(
            parts,
            vec![SubmitPart {
                esm_class: 0,
                data_coding: 0,
                short_message: b"Hello".to_vec()
            }]
        );
        assert_eq!(back, "Hello");
    }

    #[test]
    fn ucs2_parts_are_utf16_big_endian() {
        let (parts, back) = round_trip("Oi 😀");
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].data_coding, 0x08);
        assert_eq!(
            parts[0].short_message,
            vec![0, b'O', 0, b'i', 0, b' ', 0xD8, 0x3D, 0xDE, 0x00]
        );
        assert_eq!(back, "Oi 😀");
    }
}
