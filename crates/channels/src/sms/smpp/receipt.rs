//! Delivery receipts: a `deliver_sm` whose `esm_class` says "MC delivery receipt" (or
//! "intermediate notification").
//!
//! The `receipted_message_id` and `message_state` TLVs are used when present (SMPP 3.4
//! optional, 5.0 mandatory); otherwise the de-facto text form of SMPP 3.4 Appendix B is read:
//! `id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
//! err:E text:…`. SMSCs vary in case (`Id:`, `STAT:`), in `submit_date` vs `submit date`, in
//! spaces after the colon and in which fields they send, so the reader looks fields up by name
//! rather than by position, and only before `text:` (which quotes the user's message and may
//! contain anything).

use rusmpp::pdus::DeliverSm;
use rusmpp::tlvs::TlvValue;

use crate::sms::DeliveryState;

/// `esm_class` message type: MC delivery receipt.
pub const ESM_DELIVERY_RECEIPT: u8 = 0x04;
/// `esm_class` message type: intermediate delivery notification.
pub const ESM_INTERMEDIATE_NOTIFICATION: u8 = 0x20;

/// Fields of the text form; absent ones are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiptText {
    pub id: Option<String>,
    pub sub: Option<String>,
    pub dlvrd: Option<String>,
    pub submit_date: Option<String>,
    pub done_date: Option<String>,
    pub stat: Option<String>,
    pub err: Option<String>,
    pub text: Option<String>,
}

/// Reads the text form; `None` when it has neither `id:` nor `stat:`, i.e. is not a receipt.
pub fn parse_receipt_text(text: &str) -> Option<ReceiptText> {
    let lower = text.to_ascii_lowercase();
    // Fields are looked up only before `text:`, which quotes the message.
    let text_at = find_key(&lower, "text", lower.len());
    let end = text_at.map_or(text.len(), |(key_start, _)| key_start);
    let field = |keys: &[&str]| {
        keys.iter().find_map(|key| {
            let (_, value_start) = find_key(&lower, key, end)?;
            let rest = text[value_start..end].trim_start();
            let value: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            (!value.is_empty()).then_some(value)
        })
    };
    let receipt = ReceiptText {
        id: field(&["id"]),
        sub: field(&["sub"]),
        dlvrd: field(&["dlvrd"]),
        submit_date: field(&["submit date", "submit_date"]),
        done_date: field(&["done date", "done_date"]),
        stat: field(&["stat"]),
        err: field(&["err"]),
        text: text_at.map(|(_, start)| text[start..].trim().to_string()),
    };
    (receipt.id.is_some() || receipt.stat.is_some()).then_some(receipt)
}

/// Where `key` (lower case) occurs as a field name before `end`: at the start or after
/// whitespace, followed by optional spaces and `:`. Returns (key start, value start).
fn find_key(lower: &str, key: &str, end: usize) -> Option<(usize, usize)> {
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(i) = lower[from..end].find(key) {
        let at = from + i;
        let boundary = at == 0 || bytes[at - 1].is_ascii_whitespace();
        let mut j = at + key.len();
        while j < end && bytes[j] == b' ' {
            j += 1;
        }
        if boundary && j < end && bytes[j] == b':' {
            return Some((at, j + 1));
        }
        from = at + 1;
    }
    None
}

/// Delivery state for a `stat:` word, any case. `err` becomes the code of a failure unless it
/// is absent or all zeros, in which case the word itself is the code (`EXPIRED`). A word this
/// table does not know claims nothing: [`DeliveryState::Accepted`].
pub fn state_from_stat(stat: &str, err: Option<&str>) -> DeliveryState {
    match stat.trim().to_ascii_uppercase().as_str() {
        "DELIVRD" | "DELIVERED" => DeliveryState::Delivered,
        "UNDELIV" | "UNDELIVERABLE" | "EXPIRED" | "REJECTD" | "REJECTED" | "DELETED" | "UNKNOWN" | "FAILED"
        | "SKIPPED" => DeliveryState::NotDelivered {
            code: Some(meaningful_error(err).unwrap_or_else(|| stat.trim().to_ascii_uppercase())),
        },
        // ACCEPTD, ENROUTE, BUFFRED, SCHEDULED and anything unknown.
        _ => DeliveryState::Accepted,
    }
}

/// `err` unless it is missing or says "no error" (`0`, `000`).
fn meaningful_error(err: Option<&str>) -> Option<String> {
    let err = err?.trim();
    (!err.is_empty() && !err.bytes().all(|b| b == b'0')).then(|| err.to_string())
}

/// A receipt read from a `deliver_sm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Receipt {
    pub message_id: String,
    pub state: DeliveryState,
    pub error: Option<String>,
}

/// Whether `esm_class` marks a receipt rather than a message from a handset.
pub fn is_receipt_esm_class(esm_class: u8) -> bool {
    esm_class & (ESM_DELIVERY_RECEIPT | ESM_INTERMEDIATE_NOTIFICATION) != 0
}

/// The receipt in `deliver`, if it is one. TLVs win over the text; a receipt without any
/// message id cannot be matched to a submit and is `None`.
pub(crate) fn receipt_from(deliver: &DeliverSm) -> Option<Receipt> {
    let esm_class = u8::from(deliver.esm_class);
    let mut tlv_id = None;
    let mut tlv_state = None;
    let mut tlv_error = None;
    for tlv in deliver.tlvs() {
        match tlv.value() {
            Some(TlvValue::ReceiptedMessageId(id)) => tlv_id = Some(id.as_str().trim().to_string()),
            Some(TlvValue::MessageState(state)) => tlv_state = Some(u8::from(*state)),
            Some(TlvValue::NetworkErrorCode(code)) => {
                tlv_error = Some(format!("{}:{}", u8::from(code.network_type), code.error_code))
            }
            _ => {}
        }
    }
    if !is_receipt_esm_class(esm_class) && tlv_id.is_none() {
        return None;
    }
    let text = parse_receipt_text(&String::from_utf8_lossy(deliver.short_message().as_ref()));
    let message_id = tlv_id
        .filter(|id| !id.is_empty())
        .or_else(|| text.as_ref().and_then(|t| t.id.clone()))?;
    let text_err = text.as_ref().and_then(|t| meaningful_error(t.err.as_deref()));
    let error = text_err.or_else(|| tlv_error.filter(|e| !e.ends_with(":0")));
    let state = match (tlv_state, text.as_ref().and_then(|t| t.stat.as_deref())) {
        (Some(state), _) => state_from_message_state(state, error.as_deref()),
        (None, Some(stat)) => state_from_stat(stat, error.as_deref()),
        (None, None) => DeliveryState::Accepted,
    };
    Some(Receipt {
        message_id,
        state,
        error,
    })
}

/// `message_state` TLV values (SMPP 5.0 §4.7.15).
fn state_from_message_state(state: u8, err: Option<&str>) -> DeliveryState {
    let word = match state {
        2 => "DELIVRD",
        3 => "EXPIRED",
        4 => "DELETED",
        5 => "UNDELIV",
        7 => "UNKNOWN",
        8 => "REJECTD",
        9 => "SKIPPED",
        // 0 scheduled, 1 enroute, 6 accepted.
        _ => "ACCEPTD",
    };
    state_from_stat(word, err)
}

#[cfg(test)]
mod tests;
