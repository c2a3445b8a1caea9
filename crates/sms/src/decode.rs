//! Reading user data back into text: for tests of the encoder and for inbound SMS.

use crate::alphabet::tables::{ESC, NO};
use crate::alphabet::{locking_table, single_table, ShiftTables};
use crate::capacity::{fill_bits, udh_septets};
use crate::pack::{unpack_septets, CR};
use crate::udh::{Concatenation, UserDataHeader};
use crate::NationalLanguage;
use serde::Serialize;

/// Character set named by a `data_coding` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Charset {
    Gsm7,
    Ucs2,
    Latin1,
    Ascii,
}

/// How GSM 7-bit user data is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Gsm7Layout {
    /// Packed septets after fill bits, as in TP-User-Data.
    #[default]
    Packed,
    /// One septet per octet after the header, as many SMSCs exchange over SMPP.
    Unpacked,
}

/// Options of [`decode_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    pub gsm7_layout: Gsm7Layout,
    /// TP-User-Data-Length when known (septets including the header for packed
    /// GSM-7). Without it the septet count comes from the octet count, and a final
    /// CR ending on an octet boundary is taken as padding (TS 23.038 §6.1.2.3.1).
    pub user_data_length: Option<u32>,
}

/// Decoded user data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub charset: Charset,
    pub header: UserDataHeader,
    /// National language tables the header announced.
    pub shift_tables: ShiftTables,
    /// UTF-16 units of a UCS-2 part, kept so that [`join`] can mend a surrogate pair
    /// that a sender split across parts.
    utf16: Option<Vec<u16>>,
}

impl Decoded {
    /// The concatenation element, when this is one part of a longer message.
    pub fn concatenation(&self) -> Option<Concatenation> {
        self.header.concatenation
    }
}

/// Why user data cannot be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("user data header is truncated or malformed")]
    MalformedHeader,
    #[error("data_coding 0x{0:02X} is not text Recado can decode (binary, compressed or reserved)")]
    UnsupportedDataCoding(u8),
    #[error("national language 0x{0:02X} in the user data header has no tables here")]
    UnsupportedNationalLanguage(u8),
    #[error("UCS-2 user data has an odd number of octets")]
    OddUcs2Length,
    #[error("unpacked GSM user data holds octet 0x{0:02X}, above 0x7F")]
    InvalidSeptet(u8),
    #[error("user data length {0} does not match the user data")]
    BadUserDataLength(u32),
}

/// Decodes TP-User-Data (header included when `udhi`) with the given SMPP/TS 23.038
/// `data_coding`; GSM 7-bit data is taken as packed.
pub fn decode(user_data: &[u8], data_coding: u8, udhi: bool) -> Result<Decoded, DecodeError> {
    decode_with(user_data, data_coding, udhi, DecodeOptions::default())
}

/// [`decode`] with the GSM layout and the TP-User-Data-Length spelled out.
pub fn decode_with(
    user_data: &[u8],
    data_coding: u8,
    udhi: bool,
    options: DecodeOptions,
) -> Result<Decoded, DecodeError> {
    let charset = charset_of(data_coding)?;
    let (header, header_len) = if udhi {
        UserDataHeader::parse(user_data)?
    } else {
        (UserDataHeader::default(), 0)
    };
    let shift_tables = ShiftTables {
        single: language(header.single_shift)?,
        locking: language(header.locking_shift)?,
    };
    let body = &user_data[header_len..];
    let mut utf16 = None;
    let text = match charset {
        Charset::Gsm7 => {
            let septets = gsm7_septets(user_data, header_len, options)?;
            // A final CR on an octet boundary is padding unless the length was given.
            let padded = options.user_data_length.is_none()
                && options.gsm7_layout == Gsm7Layout::Packed
                && (user_data.len() * 8) % 7 == 0;
            septets_to_text(&septets, shift_tables, padded)
        }
        Charset::Ucs2 => {
            let body = match options.user_data_length {
                Some(udl) => user_data
                    .get(header_len..udl as usize)
                    .ok_or(DecodeError::BadUserDataLength(udl))?,
                None => body,
            };
            if body.len() % 2 != 0 {
                return Err(DecodeError::OddUcs2Length);
            }
            let units: Vec<u16> = body.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
            let text = String::from_utf16_lossy(&units);
            utf16 = Some(units);
            text
        }
        Charset::Latin1 => body.iter().map(|&b| b as char).collect(),
        Charset::Ascii => body
            .iter()
            .map(|&b| {
                if b < 0x80 {
                    b as char
                } else {
                    char::REPLACEMENT_CHARACTER
                }
            })
            .collect(),
    };
    Ok(Decoded {
        text,
        charset,
        header,
        shift_tables,
        utf16,
    })
}

/// Charset of a `data_coding` value. 0x00–0x0F follow SMPP 3.4 §5.2.19; the other
/// values follow the TS 23.038 §4 coding groups.
fn charset_of(dcs: u8) -> Result<Charset, DecodeError> {
    let unsupported = Err(DecodeError::UnsupportedDataCoding(dcs));
    match dcs {
        0x00 => Ok(Charset::Gsm7),
        0x01 => Ok(Charset::Ascii),
        0x03 => Ok(Charset::Latin1),
        0x08 => Ok(Charset::Ucs2),
        0x02 | 0x04..=0x07 | 0x09..=0x0F => unsupported,
        // General data coding: bit 5 = compressed, bits 3–2 = alphabet.
        0x10..=0x7F if dcs & 0x20 != 0 => unsupported,
        0x10..=0x7F => match (dcs >> 2) & 0x03 {
            0 => Ok(Charset::Gsm7),
            2 => Ok(Charset::Ucs2),
            _ => unsupported,
        },
        // Message waiting indication groups.
        0xC0..=0xDF => Ok(Charset::Gsm7),
        0xE0..=0xEF => Ok(Charset::Ucs2),
        // Data coding / message class: bit 2 = 8-bit data.
        0xF0..=0xFF if dcs & 0x04 == 0 => Ok(Charset::Gsm7),
        _ => unsupported,
    }
}

fn language(id: Option<u8>) -> Result<Option<NationalLanguage>, DecodeError> {
    match id {
        None | Some(0) => Ok(None),
        Some(id) => NationalLanguage::from_id(id)
            .map(Some)
            .ok_or(DecodeError::UnsupportedNationalLanguage(id)),
    }
}

fn gsm7_septets(user_data: &[u8], header_len: usize, options: DecodeOptions) -> Result<Vec<u8>, DecodeError> {
    let body = &user_data[header_len..];
    match options.gsm7_layout {
        Gsm7Layout::Unpacked => {
            let body = match options.user_data_length {
                Some(udl) => body.get(..udl as usize).ok_or(DecodeError::BadUserDataLength(udl))?,
                None => body,
            };
            match body.iter().find(|&&b| b > 0x7F) {
                Some(&b) => Err(DecodeError::InvalidSeptet(b)),
                None => Ok(body.to_vec()),
            }
        }
        Gsm7Layout::Packed => {
            let header_septets = udh_septets(header_len as u32) as usize;
            let available = user_data.len() * 8 / 7;
            let total = match options.user_data_length {
                Some(udl) if (udl as usize) <= available && udl as usize >= header_septets => udl as usize,
                Some(udl) => return Err(DecodeError::BadUserDataLength(udl)),
                None => available.max(header_septets),
            };
            let fill = fill_bits(header_len as u32);
            Ok(unpack_septets(body, fill, total - header_septets))
        }
    }
}

/// Maps septets to text with the announced tables. `padded`: drop a final
/// unescaped CR (it is padding when the data ends on an octet boundary).
fn septets_to_text(septets: &[u8], tables: ShiftTables, padded: bool) -> String {
    let locking = locking_table(tables.locking);
    let single = single_table(tables.single);
    let mut text = String::with_capacity(septets.len());
    let mut ends_with_plain_cr = false;
    let mut i = 0;
    while i < septets.len() {
        let s = septets[i];
        if s == ESC {
            let Some(&code) = septets.get(i + 1) else {
                break; // A dangling ESC carries no character.
            };
            let c = single[code as usize];
            if c != NO {
                text.push(c);
            } else if code == ESC {
                // ESC ESC is reserved for a further extension table; show a space.
                text.push(' ');
            } else {
                // No single shift entry: the base table character is shown (§6.2.1.1).
                text.push(locking[code as usize]);
            }
            ends_with_plain_cr = false;
            i += 2;
        } else {
            text.push(locking[s as usize]);
            ends_with_plain_cr = s == CR;
            i += 1;
        }
    }
    if padded && ends_with_plain_cr {
        text.pop();
    }
    text
}

/// Why parts cannot be joined.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoinError {
    #[error("no parts to join")]
    Empty,
    #[error("part {index} has no concatenation header")]
    NotConcatenated { index: usize },
    #[error("parts belong to different messages (reference or total differ)")]
    MixedMessages,
    #[error("message has {expected} parts, {found} given")]
    WrongPartCount { expected: u8, found: usize },
    #[error("part number {0} appears twice")]
    DuplicatePart(u8),
    #[error("part number {0} is out of range")]
    BadSequence(u8),
}

/// Re-assembles the parts of one message, in any order, into its text. A single
/// part without a concatenation header is returned as is.
pub fn join(parts: &[Decoded]) -> Result<String, JoinError> {
    match parts {
        [] => return Err(JoinError::Empty),
        [single] if single.concatenation().is_none() => return Ok(single.text.clone()),
        _ => {}
    }
    let mut ordered: Vec<(Concatenation, &Decoded)> = Vec::with_capacity(parts.len());
    for (index, part) in parts.iter().enumerate() {
        let c = part.concatenation().ok_or(JoinError::NotConcatenated { index })?;
        ordered.push((c, part));
    }
    let first = ordered[0].0;
    if ordered
        .iter()
        .any(|(c, _)| c.reference != first.reference || c.total != first.total)
    {
        return Err(JoinError::MixedMessages);
    }
    if first.total as usize != ordered.len() {
        return Err(JoinError::WrongPartCount {
            expected: first.total,
            found: ordered.len(),
        });
    }
    ordered.sort_by_key(|(c, _)| c.sequence);
    for (i, (c, _)) in ordered.iter().enumerate() {
        if c.sequence == 0 || c.sequence > first.total {
            return Err(JoinError::BadSequence(c.sequence));
        }
        if c.sequence as usize != i + 1 {
            return Err(JoinError::DuplicatePart(c.sequence));
        }
    }
    // UCS-2 parts are joined as UTF-16, so that a surrogate pair split by the sender
    // comes back whole.
    let mut text = String::new();
    let mut pending: Vec<u16> = Vec::new();
    for (_, part) in ordered {
        match &part.utf16 {
            Some(units) => pending.extend_from_slice(units),
            None => {
                text.push_str(&String::from_utf16_lossy(&pending));
                pending.clear();
                text.push_str(&part.text);
            }
        }
    }
    text.push_str(&String::from_utf16_lossy(&pending));
    Ok(text)
}
