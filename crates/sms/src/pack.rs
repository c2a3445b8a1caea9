//! GSM 7-bit packing (3GPP TS 23.038 §6.1.2.1.1): septets laid end to end, least
//! significant bit first, eight septets in seven octets.
//!
//! After a user data header the first septet starts after `fill_bits` padding bits
//! (see [`crate::fill_bits`]), so that it begins on a septet boundary of the whole
//! TP-User-Data.

/// Carriage return, the padding character of §6.1.2.3.1.
pub(crate) const CR: u8 = 0x0D;

/// Packs septets (values 0x00–0x7F) after `fill_bits` zero bits (0–6).
///
/// When the last octet has 7 unused bits they carry CR instead of zeros, so that a
/// receiver that counts septets from the octet length does not read a trailing `@`
/// (§6.1.2.3.1; such a receiver removes a final CR that ends on an octet boundary).
pub fn pack_septets(septets: &[u8], fill_bits: u32) -> Vec<u8> {
    debug_assert!(fill_bits < 7);
    let total_bits = fill_bits as usize + 7 * septets.len();
    let mut out = vec![0u8; total_bits.div_ceil(8)];
    for (k, &s) in septets.iter().enumerate() {
        let bit = fill_bits as usize + 7 * k;
        let (byte, shift) = (bit / 8, bit % 8);
        let value = ((s & 0x7F) as u16) << shift;
        out[byte] |= value as u8;
        if shift > 1 {
            out[byte + 1] |= (value >> 8) as u8;
        }
    }
    if total_bits % 8 == 1 {
        let last = out.len() - 1;
        out[last] |= CR << 1;
    }
    out
}

/// Reads `count` septets packed after `fill_bits` padding bits. Septets beyond the
/// end of `octets` read as zero bits; callers bound `count` by the data length.
pub fn unpack_septets(octets: &[u8], fill_bits: u32, count: usize) -> Vec<u8> {
    (0..count)
        .map(|k| {
            let bit = fill_bits as usize + 7 * k;
            let (byte, shift) = (bit / 8, bit % 8);
            let lo = *octets.get(byte).unwrap_or(&0) as u16;
            let hi = *octets.get(byte + 1).unwrap_or(&0) as u16;
            (((hi << 8 | lo) >> shift) & 0x7F) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_reverses_pack_for_every_fill() {
        let septets: Vec<u8> = (0..50u32).map(|i| ((i * 37) & 0x7F) as u8).collect();
        for fill in 0..7 {
            let packed = pack_septets(&septets, fill);
            assert_eq!(unpack_septets(&packed, fill, septets.len()), septets);
        }
    }

    #[test]
    fn seven_spare_bits_carry_carriage_return() {
        // 7 septets = 49 bits: 7 octets with 7 bits to spare.
        let packed = pack_septets(&[0x31; 7], 0);
        assert_eq!(packed.len(), 7);
        assert_eq!(packed[6] >> 1, CR);
        assert_eq!(unpack_septets(&packed, 0, 8)[7], CR);
    }
}
