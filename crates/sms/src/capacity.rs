//! How many septets or UTF-16 units fit in one SMS, from the 140 octets of TP-User-Data
//! (3GPP TS 23.040 §9.2.3.24; arithmetic in `reference/sms.md` §1.8).
//!
//! A user data header (UDH) is its length octet (UDHL) plus its information elements.
//! With GSM 7-bit text the header is padded with fill bits up to a septet boundary, so
//! it costs `ceil(8 × UDH octets / 7)` septets of the 160. UCS-2 text simply loses the
//! header octets, rounded down to whole 16-bit units.
//!
//! | header                           | octets | GSM-7 | UCS-2 |
//! |----------------------------------|--------|-------|-------|
//! | none                             | 0      | 160   | 70    |
//! | one national language IE         | 4      | 155   | –     |
//! | both national language IEs       | 7      | 152   | –     |
//! | concatenation (8-bit reference)  | 6      | 153   | 67    |
//! | concatenation + one national IE  | 9      | 149   | –     |
//! | concatenation + both national IEs| 12     | 146   | –     |

/// Octets of TP-User-Data in one SMS.
pub const USER_DATA_OCTETS: u32 = 140;
/// Concatenation IE with an 8-bit reference: IEI 0x00, IEDL 3, reference, total, sequence.
pub const CONCAT_IE_OCTETS: u32 = 5;
/// National language single or locking shift IE: IEI 0x24/0x25, IEDL 1, language.
pub const NATIONAL_IE_OCTETS: u32 = 3;

/// Octets of a UDH (UDHL byte included) with these elements; 0 when there is no header.
pub fn udh_octets(concatenated: bool, national_ies: u32) -> u32 {
    let ies = concatenated as u32 * CONCAT_IE_OCTETS + national_ies * NATIONAL_IE_OCTETS;
    if ies == 0 {
        0
    } else {
        1 + ies
    }
}

/// Septets a header of `udh_octets` takes once padded to a septet boundary.
pub fn udh_septets(udh_octets: u32) -> u32 {
    (udh_octets * 8).div_ceil(7)
}

/// Fill bits between a header of `udh_octets` and the first septet of text.
pub fn fill_bits(udh_octets: u32) -> u32 {
    udh_septets(udh_octets) * 7 - udh_octets * 8
}

/// GSM 7-bit septets of text that fit next to a header of `udh_octets`.
pub fn gsm7_septets(udh_octets: u32) -> u32 {
    USER_DATA_OCTETS * 8 / 7 - udh_septets(udh_octets)
}

/// UTF-16 code units of UCS-2 text that fit next to a header of `udh_octets`.
pub fn ucs2_units(udh_octets: u32) -> u32 {
    (USER_DATA_OCTETS - udh_octets) / 2
}

/// The capacity of a lone message and of each part of a concatenated one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Capacity {
    pub single: u32,
    pub multi: u32,
}

impl Capacity {
    pub fn gsm7(national_ies: u32) -> Capacity {
        Capacity {
            single: gsm7_septets(udh_octets(false, national_ies)),
            multi: gsm7_septets(udh_octets(true, national_ies)),
        }
    }

    pub fn ucs2() -> Capacity {
        Capacity {
            single: ucs2_units(udh_octets(false, 0)),
            multi: ucs2_units(udh_octets(true, 0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_match_the_published_arithmetic() {
        assert_eq!(
            Capacity::gsm7(0),
            Capacity {
                single: 160,
                multi: 153
            }
        );
        assert_eq!(
            Capacity::gsm7(1),
            Capacity {
                single: 155,
                multi: 149
            }
        );
        assert_eq!(
            Capacity::gsm7(2),
            Capacity {
                single: 152,
                multi: 146
            }
        );
        assert_eq!(Capacity::ucs2(), Capacity { single: 70, multi: 67 });
    }

    #[test]
    fn fill_bits_pad_the_header_to_a_septet_boundary() {
        assert_eq!(fill_bits(0), 0);
        assert_eq!(fill_bits(6), 1);
        assert_eq!(fill_bits(4), 3);
        assert_eq!(fill_bits(7), 0);
        assert_eq!(fill_bits(9), 5);
        assert_eq!(fill_bits(12), 2);
    }
}
