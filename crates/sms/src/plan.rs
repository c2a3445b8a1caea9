//! The wire side: a message cut into parts ready for SMPP or an HTTP provider.

use crate::alphabet::{entry_code, entry_cost, tables::ESC};
use crate::capacity::{fill_bits, udh_septets, Capacity};
use crate::encoding::alphabet_of;
use crate::pack::pack_septets;
use crate::segment::split;
use crate::udh::{Concatenation, UserDataHeader};
use crate::{analyze, Analysis, AnalyzeError, AnalyzeOptions, Encoding};
use std::ops::Range;

/// SMPP `data_coding` for the GSM 7-bit default alphabet (SMSC default).
pub const DATA_CODING_GSM7: u8 = 0x00;
/// SMPP `data_coding` for UCS-2.
pub const DATA_CODING_UCS2: u8 = 0x08;
/// SMPP `esm_class` bit announcing a user data header in `short_message` (UDHI).
pub const ESM_CLASS_UDHI: u8 = 0x40;
/// Most parts a concatenated message can have (the total is one octet).
pub const MAX_PARTS: u32 = 255;

/// A message analysed and cut into parts.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentPlan {
    /// The analysis the plan follows (`analysis.segments == parts.len()`).
    pub analysis: Analysis,
    pub parts: Vec<Part>,
}

/// One SMS of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// Position in the message, from 1.
    pub sequence: u8,
    /// The text this part carries.
    pub text: String,
    /// User data header, UDHL octet first; empty for a lone message without
    /// national language tables.
    pub udh: Vec<u8>,
    /// The user data after the header: GSM septets packed (starting after the fill
    /// bits) or UCS-2 big-endian.
    pub payload: Vec<u8>,
    /// GSM septet codes one per octet, ESC included, for SMSCs that take GSM text
    /// unpacked in `short_message`; empty for UCS-2.
    pub septets: Vec<u8>,
    /// Septets (GSM-7) or UTF-16 units (UCS-2) of text in this part.
    pub units: u32,
    /// SMPP `data_coding`: [`DATA_CODING_GSM7`] or [`DATA_CODING_UCS2`].
    pub data_coding: u8,
    /// Whether `esm_class` must carry [`ESM_CLASS_UDHI`] (there is a header).
    pub udhi: bool,
}

impl Part {
    /// TP-User-Data as sent: header then payload (at most 140 octets).
    pub fn user_data(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.udh.len() + self.payload.len());
        out.extend_from_slice(&self.udh);
        out.extend_from_slice(&self.payload);
        out
    }

    /// The `esm_class` bits this part needs (0 or [`ESM_CLASS_UDHI`]).
    pub fn esm_class(&self) -> u8 {
        if self.udhi {
            ESM_CLASS_UDHI
        } else {
            0
        }
    }

    /// TP-User-Data-Length: septets including the padded header for GSM-7, octets
    /// for UCS-2. Pass it to [`crate::decode_with`] to decode without ambiguity.
    pub fn user_data_length(&self) -> u32 {
        if self.data_coding == DATA_CODING_GSM7 {
            udh_septets(self.udh.len() as u32) + self.septets.len() as u32
        } else {
            (self.udh.len() + self.payload.len()) as u32
        }
    }
}

/// Why a message cannot be planned.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    #[error("message needs {parts} parts; a concatenated SMS has at most 255")]
    TooManyParts { parts: u32 },
}

/// Analyses `text` and cuts it into parts. `concat_reference` identifies the message
/// in the concatenation header of every part (callers rotate it per recipient).
pub fn plan(text: &str, opts: &AnalyzeOptions, concat_reference: u8) -> Result<SegmentPlan, PlanError> {
    let analysis = analyze(text, opts)?;
    if analysis.segments > MAX_PARTS {
        return Err(PlanError::TooManyParts {
            parts: analysis.segments,
        });
    }
    let parts = match analysis.encoding {
        Encoding::Gsm7 => gsm7_parts(&analysis, concat_reference),
        Encoding::Ucs2 => ucs2_parts(&analysis, concat_reference),
    };
    debug_assert_eq!(parts.len() as u32, analysis.segments);
    Ok(SegmentPlan { analysis, parts })
}

/// Character boundaries and costs, so that parts can be cut like the analysis counted.
struct Items {
    /// Byte range of each character in the text.
    spans: Vec<Range<usize>>,
    costs: Vec<u32>,
}

fn concatenation(reference: u8, total: usize, index: usize) -> Option<Concatenation> {
    (total > 1).then(|| Concatenation {
        reference: reference as u16,
        total: total as u8,
        sequence: index as u8 + 1,
        wide_reference: false,
    })
}

fn gsm7_parts(analysis: &Analysis, reference: u8) -> Vec<Part> {
    let alphabet = alphabet_of(analysis);
    let tables = alphabet.tables;
    let text = analysis.text.as_str();
    let mut items = Items {
        spans: Vec::with_capacity(text.len()),
        costs: Vec::with_capacity(text.len()),
    };
    let mut entries = Vec::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let entry = alphabet.lookup(c);
        // The analysis only ever sends characters its own alphabet carries.
        assert!(entry != 0, "analysis text holds {c:?}, which its alphabet lacks");
        items.spans.push(i..i + c.len_utf8());
        items.costs.push(entry_cost(entry));
        entries.push(entry);
    }
    let ranges = split(&items.costs, Capacity::gsm7(tables.header_elements()));
    let total = ranges.len();
    ranges
        .into_iter()
        .enumerate()
        .map(|(index, range)| {
            let mut septets = Vec::with_capacity(range.len() * 2);
            for &entry in &entries[range.clone()] {
                if entry_cost(entry) == 2 {
                    septets.push(ESC);
                }
                septets.push(entry_code(entry));
            }
            let header =
                UserDataHeader::for_part(concatenation(reference, total, index), tables.single, tables.locking);
            let udh = header.to_bytes();
            let payload = pack_septets(&septets, fill_bits(udh.len() as u32));
            Part {
                sequence: index as u8 + 1,
                text: text[span_of(&items.spans, &range)].to_owned(),
                udhi: !udh.is_empty(),
                units: septets.len() as u32,
                udh,
                payload,
                septets,
                data_coding: DATA_CODING_GSM7,
            }
        })
        .collect()
}

fn ucs2_parts(analysis: &Analysis, reference: u8) -> Vec<Part> {
    let text = analysis.text.as_str();
    let mut items = Items {
        spans: Vec::with_capacity(text.len()),
        costs: Vec::with_capacity(text.len()),
    };
    for (i, c) in text.char_indices() {
        items.spans.push(i..i + c.len_utf8());
        items.costs.push(c.len_utf16() as u32);
    }
    let ranges = split(&items.costs, Capacity::ucs2());
    let total = ranges.len();
    ranges
        .into_iter()
        .enumerate()
        .map(|(index, range)| {
            let part_text = &text[span_of(&items.spans, &range)];
            let payload: Vec<u8> = part_text.encode_utf16().flat_map(u16::to_be_bytes).collect();
            let udh = UserDataHeader::for_part(concatenation(reference, total, index), None, None).to_bytes();
            Part {
                sequence: index as u8 + 1,
                text: part_text.to_owned(),
                udhi: !udh.is_empty(),
                units: (payload.len() / 2) as u32,
                udh,
                payload,
                septets: Vec::new(),
                data_coding: DATA_CODING_UCS2,
            }
        })
        .collect()
}

/// Byte range of the text covered by a range of items.
fn span_of(spans: &[Range<usize>], items: &Range<usize>) -> Range<usize> {
    match (
        spans.get(items.start),
        items.end.checked_sub(1).and_then(|e| spans.get(e)),
    ) {
        (Some(first), Some(last)) if !items.is_empty() => first.start..last.end,
        _ => 0..0,
    }
}
