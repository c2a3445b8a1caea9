//! User data header (3GPP TS 23.040 §9.2.3.24): the elements Recado writes and reads.

use crate::decode::DecodeError;
use crate::NationalLanguage;
use serde::Serialize;

/// IEI of the concatenation element with an 8-bit reference.
pub const IEI_CONCAT_8: u8 = 0x00;
/// IEI of the concatenation element with a 16-bit reference.
pub const IEI_CONCAT_16: u8 = 0x08;
/// IEI of the national language single shift element.
pub const IEI_SINGLE_SHIFT: u8 = 0x24;
/// IEI of the national language locking shift element.
pub const IEI_LOCKING_SHIFT: u8 = 0x25;

/// Concatenated short message element: which part of which message this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Concatenation {
    /// Reference shared by all parts of one message (8 or 16 bits).
    pub reference: u16,
    /// Number of parts of the message.
    pub total: u8,
    /// This part's number, from 1.
    pub sequence: u8,
    /// Whether the reference was sent as 16 bits (IEI 0x08).
    pub wide_reference: bool,
}

/// The elements of a user data header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserDataHeader {
    pub concatenation: Option<Concatenation>,
    /// National language identifier of the single shift element (IEI 0x24).
    pub single_shift: Option<u8>,
    /// National language identifier of the locking shift element (IEI 0x25).
    pub locking_shift: Option<u8>,
    /// Other elements, kept as (IEI, data).
    pub other: Vec<(u8, Vec<u8>)>,
}

impl UserDataHeader {
    /// A header for Recado's own parts: concatenation first, then the shift elements.
    pub(crate) fn for_part(
        concatenation: Option<Concatenation>,
        single: Option<NationalLanguage>,
        locking: Option<NationalLanguage>,
    ) -> UserDataHeader {
        UserDataHeader {
            concatenation,
            single_shift: single.map(NationalLanguage::id),
            locking_shift: locking.map(NationalLanguage::id),
            other: Vec::new(),
        }
    }

    /// The header as sent, UDHL octet first; empty when there is no element.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut ies = Vec::new();
        if let Some(c) = self.concatenation {
            if c.wide_reference {
                let [hi, lo] = c.reference.to_be_bytes();
                ies.extend_from_slice(&[IEI_CONCAT_16, 4, hi, lo, c.total, c.sequence]);
            } else {
                ies.extend_from_slice(&[IEI_CONCAT_8, 3, c.reference as u8, c.total, c.sequence]);
            }
        }
        if let Some(id) = self.single_shift {
            ies.extend_from_slice(&[IEI_SINGLE_SHIFT, 1, id]);
        }
        if let Some(id) = self.locking_shift {
            ies.extend_from_slice(&[IEI_LOCKING_SHIFT, 1, id]);
        }
        for (iei, data) in &self.other {
            ies.push(*iei);
            ies.push(data.len() as u8);
            ies.extend_from_slice(data);
        }
        if ies.is_empty() {
            return ies;
        }
        let mut out = Vec::with_capacity(ies.len() + 1);
        out.push(ies.len() as u8);
        out.extend(ies);
        out
    }

    /// Parses the header at the start of `user_data`; returns it and its length in
    /// octets, UDHL included.
    pub fn parse(user_data: &[u8]) -> Result<(UserDataHeader, usize), DecodeError> {
        let (&udhl, rest) = user_data.split_first().ok_or(DecodeError::MalformedHeader)?;
        let mut ies = rest.get(..udhl as usize).ok_or(DecodeError::MalformedHeader)?;
        let mut header = UserDataHeader::default();
        while let [iei, len, tail @ ..] = ies {
            let data = tail.get(..*len as usize).ok_or(DecodeError::MalformedHeader)?;
            match (*iei, data) {
                (IEI_CONCAT_8, &[reference, total, sequence]) => {
                    header.concatenation = Some(Concatenation {
                        reference: reference as u16,
                        total,
                        sequence,
                        wide_reference: false,
                    })
                }
                (IEI_CONCAT_16, &[hi, lo, total, sequence]) => {
                    header.concatenation = Some(Concatenation {
                        reference: u16::from_be_bytes([hi, lo]),
                        total,
                        sequence,
                        wide_reference: true,
                    })
                }
                (IEI_SINGLE_SHIFT, &[id]) => header.single_shift = Some(id),
                (IEI_LOCKING_SHIFT, &[id]) => header.locking_shift = Some(id),
                (IEI_CONCAT_8 | IEI_CONCAT_16 | IEI_SINGLE_SHIFT | IEI_LOCKING_SHIFT, _) => {
                    return Err(DecodeError::MalformedHeader)
                }
                (other, data) => header.other.push((other, data.to_vec())),
            }
            ies = &tail[*len as usize..];
        }
        if !ies.is_empty() {
            return Err(DecodeError::MalformedHeader);
        }
        Ok((header, 1 + udhl as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenation_header_is_the_classic_six_octets() {
        let h = UserDataHeader::for_part(
            Some(Concatenation {
                reference: 0xCC,
                total: 2,
                sequence: 1,
                wide_reference: false,
            }),
            None,
            None,
        );
        assert_eq!(h.to_bytes(), [0x05, 0x00, 0x03, 0xCC, 0x02, 0x01]);
        assert_eq!(UserDataHeader::parse(&h.to_bytes()).unwrap(), (h, 6));
    }

    #[test]
    fn truncated_header_is_rejected() {
        assert_eq!(
            UserDataHeader::parse(&[0x05, 0x00, 0x03, 0xCC]),
            Err(DecodeError::MalformedHeader)
        );
        assert_eq!(
            UserDataHeader::parse(&[0x02, 0x24, 0x01]),
            Err(DecodeError::MalformedHeader)
        );
    }
}
