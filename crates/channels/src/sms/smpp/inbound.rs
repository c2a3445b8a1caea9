//! MO messages: decoding the user data of a `deliver_sm` and re-joining concatenated parts.
//!
//! Parts are matched by sender, recipient, reference and total, from the UDH concatenation
//! element or, for SMSCs that use them instead, the `sar_*` TLVs. A message whose parts do not
//! all arrive is not lost: after [`PART_WAIT`] what arrived is passed on, joined in order, since
//! an opt-out keyword in a broken message still counts.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use recado_sms::{decode_with, join, Concatenation, DecodeError, DecodeOptions, Decoded, Gsm7Layout};
use rusmpp::pdus::DeliverSm;
use rusmpp::tlvs::TlvValue;

use super::address::display_address;
use super::receipt::receipt_from;
use super::SmppEvent;

/// How long the first part of a concatenated MO waits for the others.
pub const PART_WAIT: Duration = Duration::from_secs(300);
/// Most incomplete messages kept at once; the oldest is passed on when a new one would exceed it.
const MAX_PENDING: usize = 1024;

/// `data_coding` 0 read as Latin-1 when it holds octets above 0x7F (some SMSCs deliver
/// Latin-1 text under "SMSC default alphabet").
const DATA_CODING_LATIN1: u8 = 0x03;

/// SAR TLV values of a part, when the SMSC sent them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sar {
    pub reference: u16,
    pub total: u8,
    pub sequence: u8,
}

/// Decodes the user data of an MO part. GSM 7-bit is read one septet per octet, as SMSCs
/// deliver it over SMPP (see [`parts`](super::parts)).
pub fn decode_mo(user_data: &[u8], data_coding: u8, esm_class: u8, sar: Option<Sar>) -> Result<Decoded, DecodeError> {
    let udhi = esm_class & recado_sms::ESM_CLASS_UDHI != 0;
    let options = DecodeOptions {
        gsm7_layout: Gsm7Layout::Unpacked,
        user_data_length: None,
    };
    let mut decoded = match decode_with(user_data, data_coding, udhi, options) {
        Err(DecodeError::InvalidSeptet(_)) if data_coding == 0 => {
            decode_with(user_data, DATA_CODING_LATIN1, udhi, options)?
        }
        other => other?,
    };
    if let (None, Some(sar)) = (decoded.header.concatenation, sar) {
        if sar.total > 1 {
            decoded.header.concatenation = Some(Concatenation {
                reference: sar.reference,
                total: sar.total,
                sequence: sar.sequence,
                wide_reference: true,
            });
        }
    }
    Ok(decoded)
}

/// What the session does with a `deliver_sm` from the SMSC, before answering it: a receipt
/// becomes one [`SmppEvent::Receipt`]; otherwise the user data (`short_message`, or the
/// `message_payload` TLV when `short_message` is empty) is decoded and handed to `reassembly`,
/// and every message that completes becomes an [`SmppEvent::Inbound`]. User data that cannot
/// be decoded (binary, unknown coding) is logged and dropped: no event.
pub fn handle_deliver_sm(deliver: &DeliverSm, reassembly: &mut Reassembly, now: Instant) -> Vec<SmppEvent> {
    if let Some(receipt) = receipt_from(deliver) {
        return vec![SmppEvent::Receipt {
            message_id: receipt.message_id,
            state: receipt.state,
            error: receipt.error,
        }];
    }
    let from = display_address(u8::from(deliver.source_addr_ton), deliver.source_addr.as_str());
    let to = display_address(u8::from(deliver.dest_addr_ton), deliver.destination_addr.as_str());
    let data_coding = u8::from(deliver.data_coding);
    let mut sar = (0u16, 0u8, 0u8);
    let mut payload = None;
    for tlv in deliver.tlvs() {
        match tlv.value() {
            Some(TlvValue::SarMsgRefNum(r)) => sar.0 = *r,
            Some(TlvValue::SarTotalSegments(t)) => sar.1 = *t,
            Some(TlvValue::SarSegmentSeqnum(s)) => sar.2 = *s,
            Some(TlvValue::MessagePayload(p)) => payload = Some(p.value.to_vec()),
            _ => {}
        }
    }
    let sar = (sar.1 > 1).then_some(Sar {
        reference: sar.0,
        total: sar.1,
        sequence: sar.2,
    });
    let short_message = deliver.short_message().as_ref();
    let user_data = match payload {
        Some(p) if short_message.is_empty() => p,
        _ => short_message.to_vec(),
    };
    match decode_mo(&user_data, data_coding, u8::from(deliver.esm_class), sar) {
        Ok(decoded) => reassembly
            .accept(&from, &to, data_coding, decoded, now)
            .into_iter()
            .map(inbound_event)
            .collect(),
        // Binary or unknown coding: nothing a person wrote; acknowledged and dropped.
        Err(e) => {
            tracing::warn!(from = %from, data_coding, error = %e, "undecodable MO message dropped");
            Vec::new()
        }
    }
}

pub(crate) fn inbound_event(mo: MoMessage) -> SmppEvent {
    SmppEvent::Inbound {
        from: mo.from,
        to: mo.to,
        text: mo.text,
        data_coding: mo.data_coding,
    }
}

/// A complete MO message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoMessage {
    pub from: String,
    pub to: String,
    pub text: String,
    pub data_coding: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    from: String,
    to: String,
    reference: u16,
    total: u8,
}

#[derive(Debug)]
struct Pending {
    parts: Vec<Decoded>,
    data_coding: u8,
    since: Instant,
}

/// Concatenated MO parts waiting for their siblings. Lives across reconnects: an SMSC may
/// deliver the rest of a message on the next bind.
#[derive(Debug, Default)]
pub struct Reassembly {
    pending: HashMap<Key, Pending>,
}

impl Reassembly {
    pub fn new() -> Self {
        Self::default()
    }

    /// Incomplete messages held.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes one decoded part; returns the messages it completes (itself when it is not a
    /// part, an older incomplete one when the store is full).
    pub fn accept(&mut self, from: &str, to: &str, data_coding: u8, part: Decoded, now: Instant) -> Vec<MoMessage> {
        let Some(c) = part.concatenation().filter(|c| c.total > 1) else {
            return vec![MoMessage {
                from: from.into(),
                to: to.into(),
                text: part.text,
                data_coding,
            }];
        };
        let key = Key {
            from: from.into(),
            to: to.into(),
            reference: c.reference,
            total: c.total,
        };
        let mut out = Vec::new();
        if !self.pending.contains_key(&key) && self.pending.len() >= MAX_PENDING {
            if let Some(oldest) = self.pending.iter().min_by_key(|(_, p)| p.since).map(|(k, _)| k.clone()) {
                let pending = self.pending.remove(&oldest).expect("key just found");
                out.push(finish(oldest, pending));
            }
        }
        let pending = self.pending.entry(key.clone()).or_insert_with(|| Pending {
            parts: Vec::new(),
            data_coding,
            since: now,
        });
        // A part delivered twice (redelivery after a reconnect) replaces the first copy.
        pending
            .parts
            .retain(|p| p.concatenation().map(|pc| pc.sequence) != Some(c.sequence));
        pending.parts.push(part);
        if pending.parts.len() >= c.total as usize {
            let pending = self.pending.remove(&key).expect("entry exists");
            out.push(finish(key, pending));
        }
        out
    }

    /// Passes on the messages that waited longer than `max_age`, with the parts they have.
    pub fn expire(&mut self, now: Instant, max_age: Duration) -> Vec<MoMessage> {
        let old: Vec<Key> = self
            .pending
            .iter()
            .filter(|(_, p)| now.duration_since(p.since) >= max_age)
            .map(|(k, _)| k.clone())
            .collect();
        old.into_iter()
            .filter_map(|k| self.pending.remove(&k).map(|p| finish(k, p)))
            .collect()
    }
}

fn finish(key: Key, mut pending: Pending) -> MoMessage {
    let text = match join(&pending.parts) {
        Ok(text) => text,
        Err(_) => {
            // Incomplete: the parts that arrived, in order.
            pending
                .parts
                .sort_by_key(|p| p.concatenation().map_or(0, |c| c.sequence));
            pending.parts.iter().map(|p| p.text.as_str()).collect()
        }
    };
    MoMessage {
        from: key.from,
        to: key.to,
        text,
        data_coding: pending.data_coding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(reference: u8, total: u8, sequence: u8, text: &str) -> Decoded {
        let mut data = vec![0x05, 0x00, 0x03, reference, total, sequence];
        data.extend(text.bytes());
        decode_mo(&data, 0, 0x40, None).unwrap()
    }

    #[test]
    fn parts_in_any_order_are_joined_once_complete() {
        let mut r = Reassembly::new();
        let now = Instant::now();
        assert!(r.accept("+1", "2", 0, part(7, 3, 3, "c"), now).is_empty());
        assert!(r.accept("+1", "2", 0, part(7, 3, 1, "a"), now).is_empty());
        // The same part again changes nothing.
        assert!(r.accept("+1", "2", 0, part(7, 3, 1, "a"), now).is_empty());
        // Another sender's part with the same reference is another message.
        assert!(r.accept("+9", "2", 0, part(7, 3, 2, "x"), now).is_empty());
        let done = r.accept("+1", "2", 0, part(7, 3, 2, "b"), now);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].text, "abc");
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn an_incomplete_message_is_passed_on_after_the_wait() {
        let mut r = Reassembly::new();
        let now = Instant::now();
        r.accept("+1", "2", 0, part(1, 3, 2, "b"), now);
        r.accept("+1", "2", 0, part(1, 3, 1, "a"), now);
        assert!(r.expire(now + Duration::from_secs(1), PART_WAIT).is_empty());
        let out = r.expire(now + PART_WAIT, PART_WAIT);
        assert_eq!(out[0].text, "ab");
        assert!(r.is_empty());
    }

    #[test]
    fn a_single_message_passes_straight_through() {
        let decoded = decode_mo(b"STOP", 0, 0, None).unwrap();
        let out = Reassembly::new().accept("+1", "2", 0, decoded, Instant::now());
        assert_eq!(out[0].text, "STOP");
    }

    #[test]
    fn sar_tlvs_stand_in_for_the_udh() {
        let sar = |sequence| {
            Some(Sar {
                reference: 300,
                total: 2,
                sequence,
            })
        };
        let mut r = Reassembly::new();
        let now = Instant::now();
        r.accept("+1", "2", 0, decode_mo(b"world", 0, 0, sar(2)).unwrap(), now);
        let out = r.accept("+1", "2", 0, decode_mo(b"hello ", 0, 0, sar(1)).unwrap(), now);
        assert_eq!(out[0].text, "hello world");
    }

    #[test]
    fn latin1_under_the_default_alphabet_is_read_as_latin1() {
        assert_eq!(decode_mo(b"caf\xe9", 0, 0, None).unwrap().text, "café");
        assert_eq!(decode_mo(&[0x00, 0x53, 0x00, 0x54], 8, 0, None).unwrap().text, "ST");
    }
}
