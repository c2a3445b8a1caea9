//! SMPP from the SMSC: the input is the byte stream the session reads from its socket.
//!
//! It is cut into PDUs by the session's own codec (`SmppCodec`: frames by `command_length`,
//! then `rusmpp` decodes each frame), fed as it could arrive: first whole, then in two reads. Every `deliver_sm` goes
//! through `handle_deliver_sm`, the session's own handling (receipt parsing, or MO decoding
//! and re-assembly of concatenated parts), with one re-assembly buffer for the whole stream;
//! at the end the buffer is expired as the session's timer does.
//!
//! - nothing panics, whatever the bytes;
//! - both ways of reading give the same PDUs;
//! - every `deliver_sm` read encodes to a frame that reads back as one PDU encoding to the
//!   same frame;
//! - nothing is left in the buffer after the expiry.

#![no_main]

use std::time::{Duration, Instant};

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use recado_channels::sms::smpp::inbound::{Reassembly, PART_WAIT};
use recado_channels::sms::smpp::{handle_deliver_sm, SmppCodec, SmppEvent};
use rusmpp::{Command, Pdu};
use tokio_util::codec::{Decoder, Encoder};

/// The PDUs in `reads`, read one after the other like a socket, until the codec needs more
/// bytes than there are or fails (the session drops the connection then).
fn frames(reads: &[&[u8]]) -> Vec<Command> {
    let mut codec = SmppCodec::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for read in reads {
        buf.extend_from_slice(read);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(command)) => out.push(command),
                Ok(None) => break,
                Err(e) => {
                    let _ = e.to_string();
                    return out;
                }
            }
        }
    }
    out
}

fn events(commands: &[Command]) -> Vec<SmppEvent> {
    let start = Instant::now();
    let mut reassembly = Reassembly::new();
    let mut out = Vec::new();
    for (i, command) in commands.iter().enumerate() {
        if let Some(Pdu::DeliverSm(deliver)) = command.pdu() {
            let now = start + Duration::from_secs(i as u64);
            out.extend(handle_deliver_sm(deliver, &mut reassembly, now));
        }
    }
    out.extend(
        reassembly
            .expire(
                start + Duration::from_secs(commands.len() as u64) + PART_WAIT,
                PART_WAIT,
            )
            .into_iter()
            .map(|mo| SmppEvent::Inbound {
                from: mo.from,
                to: mo.to,
                text: mo.text,
                data_coding: mo.data_coding,
            }),
    );
    assert!(reassembly.is_empty(), "expiry leaves nothing behind");
    out
}

fuzz_target!(|data: &[u8]| {
    let whole = frames(&[data]);
    let cut = data.len() / 2;
    let split = frames(&[&data[..cut], &data[cut..]]);
    assert_eq!(whole, split, "how the bytes arrive changes nothing");

    // `rusmpp` reads a body-less response as "no PDU" or as its empty PDU depending on the
    // command id, so the round trip is compared on the wire: encode, read, encode again.
    let encode = |command: &Command| {
        let mut encoded = BytesMut::new();
        SmppCodec::new()
            .encode(command, &mut encoded)
            .expect("encoding into memory");
        encoded
    };
    // Only `deliver_sm`: other PDUs from the SMSC are never re-encoded, and `rusmpp` reads some
    // (an `alert_notification` with a foreign TLV) into values it cannot write back.
    for command in whole.iter().filter(|c| matches!(c.pdu(), Some(Pdu::DeliverSm(_)))) {
        let encoded = encode(command);
        let again = frames(&[&encoded]);
        assert_eq!(again.len(), 1, "a PDU reads back as one PDU: {command:?}");
        assert_eq!(
            (again[0].id(), again[0].status(), again[0].sequence_number()),
            (command.id(), command.status(), command.sequence_number())
        );
        assert_eq!(encode(&again[0]), encoded, "a PDU reads back as itself");
    }

    let first = events(&whole);
    for event in &first {
        if let SmppEvent::Receipt { message_id, .. } = event {
            assert!(!message_id.is_empty(), "a receipt names its message");
        }
    }
});
