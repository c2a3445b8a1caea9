//! Type of number and numbering plan of `source_addr` and `destination_addr`.
//!
//! SMSCs route and display by them: an E.164 number sent as "unknown" may be read as a
//! national number, and an alphanumeric sender sent as a number is refused or mangled.

/// TON: international number.
pub const TON_INTERNATIONAL: u8 = 0x01;
/// TON: alphanumeric sender id (GSM 03.38 text).
pub const TON_ALPHANUMERIC: u8 = 0x05;
/// TON: unknown, the SMSC decides (short codes).
pub const TON_UNKNOWN: u8 = 0x00;
/// NPI: ISDN / E.164.
pub const NPI_ISDN: u8 = 0x01;
/// NPI: unknown (alphanumeric senders).
pub const NPI_UNKNOWN: u8 = 0x00;

/// Longest short code; a longer run of digits is an international number without its `+`.
const MAX_SHORT_CODE_DIGITS: usize = 8;

/// An address as it goes into a PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub ton: u8,
    pub npi: u8,
    /// Digits without `+` or `00`, or the alphanumeric sender as written.
    pub value: String,
}

/// Chooses TON/NPI for a sender or recipient:
/// - `+` followed by digits, or `00` followed by digits: international (1/1), digits only;
/// - any letter: alphanumeric (5/0), kept as written;
/// - at most 8 digits: a short code, unknown/ISDN (0/1);
/// - more digits: an international number written without `+` (1/1).
pub fn address_for(address: &str) -> Address {
    let address = address.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = address.strip_prefix('+').filter(|r| digits(r)) {
        return international(rest);
    }
    if address.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Address {
            ton: TON_ALPHANUMERIC,
            npi: NPI_UNKNOWN,
            value: address.to_string(),
        };
    }
    if let Some(rest) = address.strip_prefix("00").filter(|r| digits(r)) {
        return international(rest);
    }
    if digits(address) && address.len() <= MAX_SHORT_CODE_DIGITS {
        return Address {
            ton: TON_UNKNOWN,
            npi: NPI_ISDN,
            value: address.to_string(),
        };
    }
    if digits(address) {
        return international(address);
    }
    // Anything else is passed through for the SMSC to judge; the server validates senders.
    Address {
        ton: TON_UNKNOWN,
        npi: NPI_UNKNOWN,
        value: address.to_string(),
    }
}

fn international(digits: &str) -> Address {
    Address {
        ton: TON_INTERNATIONAL,
        npi: NPI_ISDN,
        value: digits.to_string(),
    }
}

/// The address as the hub writes numbers: `+` and digits for an international number, as
/// received otherwise.
pub fn display_address(ton: u8, value: &str) -> String {
    if ton == TON_INTERNATIONAL && !value.starts_with('+') && value.bytes().all(|b| b.is_ascii_digit()) {
        format!("+{value}")
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: &str) -> (u8, u8, String) {
        let a = address_for(a);
        (a.ton, a.npi, a.value)
    }

    #[test]
    fn e164_numbers_are_international_isdn_without_plus() {
        assert_eq!(pair("+5511900000001"), (1, 1, "5511900000001".into()));
        assert_eq!(pair(" +351912345678 "), (1, 1, "351912345678".into()));
        assert_eq!(pair("00351912345678"), (1, 1, "351912345678".into()));
        assert_eq!(pair("5511900000001"), (1, 1, "5511900000001".into()));
    }

    #[test]
    fn alphanumeric_senders_are_ton_5_npi_0_as_written() {
        assert_eq!(pair("Recado"), (5, 0, "Recado".into()));
        assert_eq!(pair("Loja 24"), (5, 0, "Loja 24".into()));
        assert_eq!(pair("2FA"), (5, 0, "2FA".into()));
    }

    #[test]
    fn short_codes_are_left_to_the_smsc() {
        assert_eq!(pair("12345"), (0, 1, "12345".into()));
        assert_eq!(pair("12345678"), (0, 1, "12345678".into()));
        assert_eq!(pair("123456789"), (1, 1, "123456789".into()));
    }

    #[test]
    fn international_numbers_are_shown_with_plus() {
        assert_eq!(display_address(1, "5511900000001"), "+5511900000001");
        assert_eq!(display_address(5, "Recado"), "Recado");
        assert_eq!(display_address(0, "12345"), "12345");
    }
}
