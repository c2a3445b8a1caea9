//! Recado's SMS rules: what a text costs and which bytes go on the wire.
//!
//! * [`analyze`] decides the encoding (GSM 7-bit or UCS-2), applies the
//!   transliteration policy, considers the national language tables of
//!   3GPP TS 23.038 and counts parts, units and room left, to the septet.
//! * [`plan`] turns the same decision into parts ready to submit: user data header,
//!   packed septets or UCS-2 bytes, `data_coding` and the UDHI flag.
//! * [`decode`] reads user data back (concatenation and national language headers
//!   included) and [`join`] re-assembles parts.
//! * [`validate_sender`] checks a sender id.
//!
//! Everything here is pure computation: no I/O, no clock, no global state.

mod alphabet;
mod capacity;
mod decode;
mod encoding;
mod pack;
mod plan;
mod segment;
mod sender;
mod transliterate;
mod udh;

use serde::{Deserialize, Serialize};

pub use alphabet::ShiftTables;
pub use capacity::{fill_bits, gsm7_septets, ucs2_units, udh_octets, USER_DATA_OCTETS};
pub use decode::{decode, decode_with, join, Charset, DecodeError, DecodeOptions, Decoded, Gsm7Layout, JoinError};
pub use encoding::analyze;
pub use pack::{pack_septets, unpack_septets};
pub use plan::{plan, Part, PlanError, SegmentPlan, DATA_CODING_GSM7, DATA_CODING_UCS2, ESM_CLASS_UDHI, MAX_PARTS};
pub use sender::{validate_sender, Sender, SenderError, MAX_ALPHANUMERIC_CHARS, MAX_NUMERIC_DIGITS};
pub use transliterate::transliterate;
pub use udh::{Concatenation, UserDataHeader};

/// What to do with characters outside the GSM 7-bit tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Replace them with the closest GSM character (see `TRANSLITERATION.md`); if any
    /// character has no replacement, send the original text in UCS-2.
    #[default]
    Transliterate,
    /// Keep the text as written; UCS-2 as soon as one character is outside GSM-7.
    Auto,
}

/// National language of the 3GPP TS 23.038 shift tables Recado can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NationalLanguage {
    /// Portuguese: single shift (A.2.3) and locking shift (A.3.3) tables.
    Pt,
    /// Spanish: single shift table (A.2.2) only.
    Es,
    /// Turkish: single shift (A.2.1) and locking shift (A.3.1) tables.
    Tr,
}

impl NationalLanguage {
    /// The national language identifier carried in UDH IEs 0x24/0x25 (§6.2.1.2.4).
    pub fn id(self) -> u8 {
        match self {
            NationalLanguage::Tr => 0x01,
            NationalLanguage::Es => 0x02,
            NationalLanguage::Pt => 0x03,
        }
    }

    /// The language with this identifier, if Recado has its tables.
    pub fn from_id(id: u8) -> Option<NationalLanguage> {
        match id {
            0x01 => Some(NationalLanguage::Tr),
            0x02 => Some(NationalLanguage::Es),
            0x03 => Some(NationalLanguage::Pt),
            _ => None,
        }
    }

    /// Whether the language has a locking shift table (Spanish has none).
    pub fn has_locking_table(self) -> bool {
        !matches!(self, NationalLanguage::Es)
    }
}

/// How to analyse a text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalyzeOptions {
    pub policy: Policy,
    /// National language tables the recipients' handsets support. They are used only
    /// when they make the message cheaper or keep characters that would otherwise be
    /// transliterated (see [`analyze`]).
    pub national_language: Option<NationalLanguage>,
    /// Parts allowed before [`Analysis::exceeds_max_segments`] is set.
    pub max_segments: u32,
}

/// Default part limit per message (SPEC §5).
pub const DEFAULT_MAX_SEGMENTS: u32 = 5;

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            policy: Policy::Transliterate,
            national_language: None,
            max_segments: DEFAULT_MAX_SEGMENTS,
        }
    }
}

/// Why a text cannot be analysed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AnalyzeError {
    #[error("text is empty")]
    EmptyText,
}

/// Character encoding of the message on the air interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encoding {
    /// GSM 7-bit default alphabet (possibly with national language tables).
    #[serde(rename = "GSM-7")]
    Gsm7,
    /// UCS-2 (UTF-16 big-endian; emoji are carried as surrogate pairs).
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl Encoding {
    /// The name used in the API: `"GSM-7"` or `"UCS-2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }

    /// SMPP `data_coding` for this encoding.
    pub fn data_coding(self) -> u8 {
        match self {
            Encoding::Gsm7 => DATA_CODING_GSM7,
            Encoding::Ucs2 => DATA_CODING_UCS2,
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One character replaced by transliteration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Replacement {
    pub from: String,
    pub to: String,
}

/// What a text costs and what will be sent.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Analysis {
    pub encoding: Encoding,
    /// Number of SMS parts; 1 when the message fits one SMS.
    pub segments: u32,
    /// Septets for GSM-7 (ESC sequences count 2), UTF-16 code units for UCS-2.
    pub units: u32,
    /// Capacity of one part as sent: 160/153 septets, 70/67 units, or less with
    /// national language headers (155/149 with one table, 152/146 with both).
    pub units_per_segment: u32,
    /// Units still free in the last part.
    pub remaining_in_segment: u32,
    /// The text that will be sent (after transliteration).
    pub text: String,
    /// One entry per distinct replaced character, in order of first appearance.
    pub replaced: Vec<Replacement>,
    /// Distinct characters that forced UCS-2, in order of first appearance.
    pub ucs2_chars: Vec<String>,
    /// The national language whose tables are used, if any.
    pub national_language: Option<NationalLanguage>,
    pub exceeds_max_segments: bool,
    /// Which national tables are announced in the header (single shift, locking
    /// shift or both). Not part of the API's JSON; `national_language` is.
    #[serde(skip)]
    pub shift_tables: ShiftTables,
}
