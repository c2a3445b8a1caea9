//! Framing of the SMPP byte stream: `command_length` decides where a PDU ends.
//!
//! `rusmpp`'s `CommandCodec` decodes a PDU's body straight from the read buffer, so a body
//! whose fields claim more octets than its `command_length` (a `short_message` longer than
//! the PDU, a C-string without its NUL) reads on into the next PDU when that one is already
//! buffered, and fails when it is not: the same bytes meant different things depending on how
//! the TCP reads fell, and a malformed PDU could swallow the `deliver_sm` behind it. Here the
//! frame is cut first, exactly `command_length` octets, and the PDU is decoded from that frame
//! alone; one that does not fit its frame is a decode error (the session drops the link).

use rusmpp::tokio_codec::{CommandCodec, DecodeError, EncodeError};
use rusmpp::Command;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

/// `command_length` (4) + `command_id` + `command_status` + `sequence_number`.
const HEADER_LENGTH: usize = 16;
/// The largest PDU accepted, as `rusmpp`'s default.
pub const MAX_PDU_LENGTH: usize = 8192;

/// The codec of the session's connection: frames by `command_length`, then decodes each frame
/// with `rusmpp` on its own octets.
#[derive(Debug, Default)]
pub struct SmppCodec;

impl SmppCodec {
    pub fn new() -> Self {
        SmppCodec
    }
}

impl Decoder for SmppCodec {
    type Item = Command;
    type Error = DecodeError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Command>, DecodeError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let length = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
        if length < HEADER_LENGTH {
            return Err(DecodeError::MinLength {
                actual: length,
                min: HEADER_LENGTH,
            });
        }
        if length > MAX_PDU_LENGTH {
            return Err(DecodeError::MaxLength {
                actual: length,
                max: MAX_PDU_LENGTH,
            });
        }
        if src.len() < length {
            src.reserve(length - src.len());
            return Ok(None);
        }
        let mut frame = src.split_to(length);
        match CommandCodec::new().decode(&mut frame)? {
            Some(command) => Ok(Some(command)),
            // The whole frame was there: only a body that runs past it leaves the codec wanting.
            None => Err(DecodeError::Decode(rusmpp::decode::DecodeError::unexpected_eof())),
        }
    }
}

impl Encoder<Command> for SmppCodec {
    type Error = EncodeError;

    fn encode(&mut self, command: Command, dst: &mut BytesMut) -> Result<(), EncodeError> {
        CommandCodec::new().encode(&command, dst)
    }
}

impl Encoder<&Command> for SmppCodec {
    type Error = EncodeError;

    fn encode(&mut self, command: &Command, dst: &mut BytesMut) -> Result<(), EncodeError> {
        CommandCodec::new().encode(command, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusmpp::{CommandId, CommandStatus, Pdu};

    fn encoded(command: &Command) -> Vec<u8> {
        let mut out = BytesMut::new();
        SmppCodec.encode(command, &mut out).unwrap();
        out.to_vec()
    }

    /// A `deliver_sm` of 69 octets whose `sm_length` (51) runs 20 octets past its frame (found
    /// by the `smpp_deliver_sm` fuzz target).
    fn overlong_deliver_sm() -> Vec<u8> {
        let mut pdu = vec![0, 0, 0, 69, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1];
        pdu.extend_from_slice(b"\0\x01\x0055110\0\0\0\0\0\0\0\0\0\0\0\0\x33");
        pdu.resize(69, b'x');
        pdu
    }

    #[test]
    fn a_pdu_never_reads_past_its_command_length() {
        let enquire = encoded(&Command::new(CommandStatus::EsmeRok, 2, Pdu::EnquireLink));
        // Whether the next PDU is already buffered or not, the overlong one is an error and
        // never a deliver_sm made of the next PDU's octets.
        let mut together = BytesMut::from(&[overlong_deliver_sm(), enquire.clone()].concat()[..]);
        assert!(SmppCodec.decode(&mut together).is_err());
        assert_eq!(together.to_vec(), enquire, "the next PDU is left whole");
        let mut alone = BytesMut::from(&overlong_deliver_sm()[..]);
        assert!(SmppCodec.decode(&mut alone).is_err());
    }

    #[test]
    fn pdus_are_read_one_frame_at_a_time_however_the_bytes_arrive() {
        let first = Command::new(CommandStatus::EsmeRok, 1, Pdu::EnquireLink);
        let second = Command::new(CommandStatus::EsmeRok, 2, Pdu::EnquireLinkResp);
        let stream = [encoded(&first), encoded(&second)].concat();
        for cut in 0..=stream.len() {
            let mut codec = SmppCodec::new();
            let mut buf = BytesMut::from(&stream[..cut]);
            let mut read = Vec::new();
            while let Some(c) = codec.decode(&mut buf).unwrap() {
                read.push(c);
            }
            buf.extend_from_slice(&stream[cut..]);
            while let Some(c) = codec.decode(&mut buf).unwrap() {
                read.push(c);
            }
            assert_eq!(read, vec![first.clone(), second.clone()], "cut at {cut}");
            assert!(buf.is_empty());
        }
        assert_eq!(first.id(), CommandId::EnquireLink);
    }

    #[test]
    fn lengths_outside_the_limits_are_refused() {
        let mut short = BytesMut::from(&[0u8, 0, 0, 8, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1][..]);
        assert!(matches!(
            SmppCodec.decode(&mut short),
            Err(DecodeError::MinLength { .. })
        ));
        let mut long = BytesMut::from(&[0u8, 0, 0x20, 1][..]);
        assert!(matches!(
            SmppCodec.decode(&mut long),
            Err(DecodeError::MaxLength { .. })
        ));
    }
}
