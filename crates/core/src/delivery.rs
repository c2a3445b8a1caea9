//! The delivery status of an outbound message (SPEC §4, §5; API "Messages").
//!
//! Provider reports arrive at least once and in any order, so the status is a
//! function of *which* reports arrived, never of their order: each status has a
//! place on the message's path, and a report only ever moves the status further
//! along it. The path, from least to most advanced:
//!
//! `queued` → `uncertain` → `sent` → `failed` → `not_delivered` → `delivered` → `read`
//!
//! * `uncertain`: a send attempt whose outcome is unknown (a timeout after the
//!   request left); the provider may or may not have the message.
//! * `failed` may follow `sent`: the provider accepted the message and gave up
//!   on it later. `not_delivered` ranks above `failed` because it is the
//!   network's word about the handset, further along than the provider's.
//! * `delivered` and `read` rank above both failures: a delivery or read
//!   receipt proves the message reached the contact, so a failure report after
//!   it is ignored, and one that came before it is overruled. This keeps the
//!   result independent of arrival order and means a late `sent`, `delivered`
//!   or failure never moves a `read` message back.
//! * `not_sent` lies off the path: Recado refused the message before contacting
//!   any provider (no subscription, quota, window...). It replaces only
//!   `queued`, nothing replaces it, and no provider report can exist for it.

use crate::consent::UnknownValue;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundStatus {
    Queued,
    Uncertain,
    Sent,
    Delivered,
    Read,
    Failed,
    NotSent,
    NotDelivered,
}

impl OutboundStatus {
    pub const ALL: [OutboundStatus; 8] = [
        OutboundStatus::Queued,
        OutboundStatus::Uncertain,
        OutboundStatus::Sent,
        OutboundStatus::Delivered,
        OutboundStatus::Read,
        OutboundStatus::Failed,
        OutboundStatus::NotSent,
        OutboundStatus::NotDelivered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboundStatus::Queued => "queued",
            OutboundStatus::Uncertain => "uncertain",
            OutboundStatus::Sent => "sent",
            OutboundStatus::Delivered => "delivered",
            OutboundStatus::Read => "read",
            OutboundStatus::Failed => "failed",
            OutboundStatus::NotSent => "not_sent",
            OutboundStatus::NotDelivered => "not_delivered",
        }
    }

    /// Place on the message's path (see the module documentation).
    /// `not_sent` is off the path and handled before this is consulted.
    fn progress(self) -> u8 {
        match self {
            OutboundStatus::Queued | OutboundStatus::NotSent => 0,
            OutboundStatus::Uncertain => 1,
            OutboundStatus::Sent => 2,
            OutboundStatus::Failed => 3,
            OutboundStatus::NotDelivered => 4,
            OutboundStatus::Delivered => 5,
            OutboundStatus::Read => 6,
        }
    }
}

impl FromStr for OutboundStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        OutboundStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_string()))
    }
}

impl fmt::Display for OutboundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way a message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    #[serde(rename = "in")]
    In,
    #[serde(rename = "out")]
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

impl FromStr for Direction {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s {
            "in" => Ok(Direction::In),
            "out" => Ok(Direction::Out),
            _ => Err(UnknownValue(s.to_string())),
        }
    }
}

impl TryFrom<String> for Direction {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, UnknownValue> {
        s.parse()
    }
}

/// A stored message's status: `received` for what a contact sent, an
/// [`OutboundStatus`] for what the hub sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    Received,
    Outbound(OutboundStatus),
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Received => "received",
            MessageStatus::Outbound(s) => s.as_str(),
        }
    }

    /// The delivery status of an outbound message; None for a received one.
    pub fn outbound(self) -> Option<OutboundStatus> {
        match self {
            MessageStatus::Received => None,
            MessageStatus::Outbound(s) => Some(s),
        }
    }
}

impl From<OutboundStatus> for MessageStatus {
    fn from(s: OutboundStatus) -> Self {
        MessageStatus::Outbound(s)
    }
}

impl PartialEq<OutboundStatus> for MessageStatus {
    fn eq(&self, other: &OutboundStatus) -> bool {
        *self == MessageStatus::Outbound(*other)
    }
}

impl FromStr for MessageStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        if s == "received" {
            return Ok(MessageStatus::Received);
        }
        s.parse().map(MessageStatus::Outbound)
    }
}

impl TryFrom<String> for MessageStatus {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, UnknownValue> {
        s.parse()
    }
}

impl Serialize for MessageStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MessageStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status after `incoming` is reported for a message whose status is
/// `current`. Never moves backwards; see the module documentation for the
/// order and why failures rank below delivery.
pub fn advance(current: OutboundStatus, incoming: OutboundStatus) -> OutboundStatus {
    match (current, incoming) {
        (OutboundStatus::NotSent, _) => OutboundStatus::NotSent,
        (OutboundStatus::Queued, OutboundStatus::NotSent) => OutboundStatus::NotSent,
        // Once a provider may have the message it is too late to call it not sent.
        (_, OutboundStatus::NotSent) => current,
        _ if incoming.progress() > current.progress() => incoming,
        _ => current,
    }
}

/// Whether no further report is expected for a message in this status:
/// `read`, `failed`, `not_delivered` and `not_sent`. `delivered` is not final
/// because a read receipt may still follow on WhatsApp.
///
/// Final is about expectation, not immutability: a delivery or read receipt
/// arriving after `failed` or `not_delivered` still overrules it in
/// [`advance`]. Only `read` and `not_sent` can never change.
pub fn is_final(status: OutboundStatus) -> bool {
    matches!(
        status,
        OutboundStatus::Read | OutboundStatus::Failed | OutboundStatus::NotSent | OutboundStatus::NotDelivered
    )
}

/// Earlier statuses a report proves, in path order. The timeline records them
/// first when they are missing, so a delivered or not-delivered event always
/// follows a sent event even when the receipt arrived before the acceptance
/// (SPEC §5), and a read message also shows as delivered.
pub fn implied_earlier(status: OutboundStatus) -> &'static [OutboundStatus] {
    match status {
        OutboundStatus::Delivered | OutboundStatus::NotDelivered => &[OutboundStatus::Sent],
        OutboundStatus::Read => &[OutboundStatus::Sent, OutboundStatus::Delivered],
        OutboundStatus::Queued
        | OutboundStatus::Uncertain
        | OutboundStatus::Sent
        | OutboundStatus::Failed
        | OutboundStatus::NotSent => &[],
    }
}

/// What one report does to a message: the statuses it proves missing on the
/// way (recorded first, so a delivery always follows a sent event) and the
/// status it moves the message to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub implied: Vec<OutboundStatus>,
    pub next: OutboundStatus,
}

/// The one delivery transition every channel's reports and the hub's own
/// decisions (uncertain, not sent, failed) go through. None when the report
/// changes nothing: it is a repeat, or arrives too late to move the status.
pub fn transition(current: OutboundStatus, incoming: OutboundStatus) -> Option<Transition> {
    let next = advance(current, incoming);
    if next == current {
        return None;
    }
    let implied = implied_earlier(next)
        .iter()
        .copied()
        .filter(|step| advance(current, *step) != current)
        .collect();
    Some(Transition { implied, next })
}

/// The timeline event of a message status on a channel (`SMS_DELIVERED`,
/// `WHATSAPP_READ`, …). SPEC §5 names the SMS events; WhatsApp's follow the
/// same pattern with its own read and failure names.
pub fn timeline_kind(channel: crate::consent::Channel, status: OutboundStatus) -> &'static str {
    use crate::consent::Channel;
    use OutboundStatus as S;
    match (channel, status) {
        (Channel::Sms, S::Queued) => "SMS_QUEUED",
        (Channel::Sms, S::Uncertain) => "SMS_UNCERTAIN",
        (Channel::Sms, S::Sent) => "SMS_SENT",
        (Channel::Sms, S::Delivered | S::Read) => "SMS_DELIVERED",
        (Channel::Sms, S::NotDelivered) => "SMS_NOT_DELIVERED",
        (Channel::Sms, S::Failed | S::NotSent) => "SMS_NOT_SENT",
        (Channel::Whatsapp, S::Queued) => "WHATSAPP_QUEUED",
        (Channel::Whatsapp, S::Uncertain) => "WHATSAPP_UNCERTAIN",
        (Channel::Whatsapp, S::Sent) => "WHATSAPP_SENT",
        (Channel::Whatsapp, S::Delivered) => "WHATSAPP_DELIVERED",
        (Channel::Whatsapp, S::Read) => "WHATSAPP_READ",
        (Channel::Whatsapp, S::Failed | S::NotDelivered) => "WHATSAPP_FAILED",
        (Channel::Whatsapp, S::NotSent) => "WHATSAPP_NOT_SENT",
        (Channel::Voice, S::Queued) => "VOICE_QUEUED",
        (Channel::Voice, S::Uncertain) => "VOICE_UNCERTAIN",
        (Channel::Voice, S::Sent) => "VOICE_SENT",
        (Channel::Voice, S::Delivered | S::Read) => "VOICE_DELIVERED",
        (Channel::Voice, S::NotDelivered) => "VOICE_NOT_DELIVERED",
        (Channel::Voice, S::Failed | S::NotSent) => "VOICE_NOT_SENT",
    }
}

/// The delivery state of one part of a multi-part SMS (each part has its own
/// receipt). Like a message's status it only moves forward — `accepted` →
/// `not_delivered` → `delivered`, a delivery receipt overruling a failure —
/// so late or repeated receipts, in any order, end in the same state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    Accepted,
    NotDelivered,
    Delivered,
}

impl PartState {
    pub const ALL: [PartState; 3] = [PartState::Accepted, PartState::NotDelivered, PartState::Delivered];

    pub fn as_str(self) -> &'static str {
        match self {
            PartState::Accepted => "accepted",
            PartState::NotDelivered => "not_delivered",
            PartState::Delivered => "delivered",
        }
    }

    /// The state after `incoming` is reported for a part in state `self`.
    pub fn advance(self, incoming: PartState) -> PartState {
        self.max(incoming)
    }
}

impl PartialOrd for PartState {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PartState {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |p: &PartState| PartState::ALL.iter().position(|x| x == p);
        rank(self).cmp(&rank(other))
    }
}

impl TryFrom<String> for PartState {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, UnknownValue> {
        s.parse()
    }
}

impl FromStr for PartState {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        PartState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_string()))
    }
}

/// What the parts of a message say about the whole: delivered once every part
/// is, not delivered as soon as one part is not (until all are delivered),
/// nothing yet otherwise.
pub fn message_outcome_of_parts(parts: &[PartState]) -> Option<OutboundStatus> {
    if !parts.is_empty() && parts.iter().all(|p| *p == PartState::Delivered) {
        Some(OutboundStatus::Delivered)
    } else if parts.contains(&PartState::NotDelivered) {
        Some(OutboundStatus::NotDelivered)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::OutboundStatus::{Delivered, Failed, NotDelivered, NotSent, Queued, Read, Sent, Uncertain};
    use super::*;
    use proptest::prelude::*;

    /// Every (current, incoming) pair with the status it must end in.
    const TABLE: [(OutboundStatus, OutboundStatus, OutboundStatus); 64] = [
        // A queued message takes whatever comes first.
        (Queued, Queued, Queued),
        (Queued, Uncertain, Uncertain),
        (Queued, Sent, Sent),
        (Queued, Delivered, Delivered),
        (Queued, Read, Read),
        (Queued, Failed, Failed),
        (Queued, NotSent, NotSent),
        (Queued, NotDelivered, NotDelivered),
        // Uncertain: the provider may have it, so it can no longer be "not sent".
        (Uncertain, Queued, Uncertain),
        (Uncertain, Uncertain, Uncertain),
        (Uncertain, Sent, Sent),
        (Uncertain, Delivered, Delivered),
        (Uncertain, Read, Read),
        (Uncertain, Failed, Failed),
        (Uncertain, NotSent, Uncertain),
        (Uncertain, NotDelivered, NotDelivered),
        // Sent: failures may follow.
        (Sent, Queued, Sent),
        (Sent, Uncertain, Sent),
        (Sent, Sent, Sent),
        (Sent, Delivered, Delivered),
        (Sent, Read, Read),
        (Sent, Failed, Failed),
        (Sent, NotSent, Sent),
        (Sent, NotDelivered, NotDelivered),
        // Delivered: only read moves it; a late failure is ignored.
        (Delivered, Queued, Delivered),
        (Delivered, Uncertain, Delivered),
        (Delivered, Sent, Delivered),
        (Delivered, Delivered, Delivered),
        (Delivered, Read, Read),
        (Delivered, Failed, Delivered),
        (Delivered, NotSent, Delivered),
        (Delivered, NotDelivered, Delivered),
        // Read: nothing moves it.
        (Read, Queued, Read),
        (Read, Uncertain, Read),
        (Read, Sent, Read),
        (Read, Delivered, Read),
        (Read, Read, Read),
        (Read, Failed, Read),
        (Read, NotSent, Read),
        (Read, NotDelivered, Read),
        // Failed: overruled only by proof of delivery, or by the network's own report.
        (Failed, Queued, Failed),
        (Failed, Uncertain, Failed),
        (Failed, Sent, Failed),
        (Failed, Delivered, Delivered),
        (Failed, Read, Read),
        (Failed, Failed, Failed),
        (Failed, NotSent, Failed),
        (Failed, NotDelivered, NotDelivered),
        // Not sent: nothing moves it.
        (NotSent, Queued, NotSent),
        (NotSent, Uncertain, NotSent),
        (NotSent, Sent, NotSent),
        (NotSent, Delivered, NotSent),
        (NotSent, Read, NotSent),
        (NotSent, Failed, NotSent),
        (NotSent, NotSent, NotSent),
        (NotSent, NotDelivered, NotSent),
        // Not delivered: overruled only by proof of delivery.
        (NotDelivered, Queued, NotDelivered),
        (NotDelivered, Uncertain, NotDelivered),
        (NotDelivered, Sent, NotDelivered),
        (NotDelivered, Delivered, Delivered),
        (NotDelivered, Read, Read),
        (NotDelivered, Failed, NotDelivered),
        (NotDelivered, NotSent, NotDelivered),
        (NotDelivered, NotDelivered, NotDelivered),
    ];

    #[test]
    fn every_pair_of_statuses_advances_as_the_table_says() {
        for (current, incoming, expected) in TABLE {
            assert_eq!(advance(current, incoming), expected, "{current} then {incoming}");
        }
    }

    #[test]
    fn the_table_covers_all_64_pairs_once() {
        for current in OutboundStatus::ALL {
            for incoming in OutboundStatus::ALL {
                let rows = TABLE.iter().filter(|(c, i, _)| *c == current && *i == incoming).count();
                assert_eq!(rows, 1, "{current} then {incoming}");
            }
        }
    }

    fn fold(statuses: &[OutboundStatus]) -> OutboundStatus {
        statuses.iter().fold(Queued, |status, report| advance(status, *report))
    }

    #[test]
    fn read_then_delivered_then_sent_stays_read() {
        assert_eq!(fold(&[Read, Delivered, Sent]), Read);
    }

    #[test]
    fn read_before_delivered_still_ends_read() {
        assert_eq!(fold(&[Sent, Read, Delivered]), Read);
    }

    #[test]
    fn a_late_sent_never_overwrites_delivered() {
        assert_eq!(fold(&[Delivered, Sent]), Delivered);
    }

    #[test]
    fn failed_may_follow_queued_uncertain_and_sent() {
        assert_eq!(fold(&[Failed]), Failed);
        assert_eq!(fold(&[Uncertain, Failed]), Failed);
        assert_eq!(fold(&[Sent, Failed]), Failed);
        assert_eq!(fold(&[Sent, NotDelivered]), NotDelivered);
    }

    #[test]
    fn a_failure_report_after_delivered_is_ignored() {
        assert_eq!(fold(&[Sent, Delivered, Failed]), Delivered);
        assert_eq!(fold(&[Sent, Delivered, NotDelivered]), Delivered);
    }

    #[test]
    fn a_failure_never_follows_read() {
        assert_eq!(fold(&[Read, Failed]), Read);
        assert_eq!(fold(&[Read, NotDelivered]), Read);
    }

    #[test]
    fn proof_of_delivery_overrules_an_earlier_failure_report() {
        assert_eq!(fold(&[Failed, Delivered]), Delivered);
        assert_eq!(fold(&[NotDelivered, Read]), Read);
    }

    #[test]
    fn not_sent_replaces_only_queued_and_is_final() {
        assert_eq!(fold(&[NotSent]), NotSent);
        for report in OutboundStatus::ALL {
            assert_eq!(advance(NotSent, report), NotSent);
        }
        assert_eq!(fold(&[Uncertain, NotSent]), Uncertain);
        assert_eq!(fold(&[Sent, NotSent]), Sent);
    }

    #[test]
    fn advance_is_idempotent_for_every_pair() {
        for current in OutboundStatus::ALL {
            assert_eq!(advance(current, current), current);
            for incoming in OutboundStatus::ALL {
                let once = advance(current, incoming);
                assert_eq!(advance(once, incoming), once, "{current} then {incoming} twice");
            }
        }
    }

    #[test]
    fn final_statuses_are_read_failed_not_sent_and_not_delivered() {
        let finals: Vec<OutboundStatus> = OutboundStatus::ALL.into_iter().filter(|s| is_final(*s)).collect();
        assert_eq!(finals, vec![Read, Failed, NotSent, NotDelivered]);
    }

    #[test]
    fn read_and_not_sent_are_the_statuses_nothing_changes() {
        for status in OutboundStatus::ALL {
            let absorbing = OutboundStatus::ALL
                .into_iter()
                .all(|report| advance(status, report) == status);
            assert_eq!(absorbing, matches!(status, Read | NotSent), "{status}");
        }
    }

    #[test]
    fn receipts_imply_the_sent_event_and_read_implies_delivered() {
        assert_eq!(implied_earlier(Delivered), &[Sent]);
        assert_eq!(implied_earlier(NotDelivered), &[Sent]);
        assert_eq!(implied_earlier(Read), &[Sent, Delivered]);
        for status in [Queued, Uncertain, Sent, Failed, NotSent] {
            assert!(implied_earlier(status).is_empty(), "{status}");
        }
    }

    #[test]
    fn statuses_round_trip_through_their_api_names() {
        let names: Vec<&str> = OutboundStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "queued",
                "uncertain",
                "sent",
                "delivered",
                "read",
                "failed",
                "not_sent",
                "not_delivered"
            ]
        );
        for status in OutboundStatus::ALL {
            assert_eq!(status.as_str().parse::<OutboundStatus>(), Ok(status));
            assert_eq!(serde_json::to_string(&status).unwrap(), format!("\"{status}\""));
            assert_eq!(
                serde_json::from_str::<OutboundStatus>(&format!("\"{status}\"")).unwrap(),
                status
            );
        }
        assert_eq!(
            "received".parse::<OutboundStatus>(),
            Err(UnknownValue("received".into()))
        );
        assert!("Sent".parse::<OutboundStatus>().is_err());
    }

    /// Anything that may be reported about a message that reached the send
    /// step: `not_sent` is decided before any provider contact, so it never
    /// shows up among them.
    fn report() -> impl Strategy<Value = OutboundStatus> {
        prop::sample::select(vec![Queued, Uncertain, Sent, Delivered, Read, Failed, NotDelivered])
    }

    fn any_status() -> impl Strategy<Value = OutboundStatus> {
        prop::sample::select(OutboundStatus::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn the_final_status_does_not_depend_on_the_order_of_reports(
            (reports, shuffled) in prop::collection::vec(report(), 0..12)
                .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
        ) {
            prop_assert_eq!(fold(&reports), fold(&shuffled));
        }

        #[test]
        fn read_wins_whenever_it_was_reported(
            mut reports in prop::collection::vec(report(), 0..12),
            at in any::<prop::sample::Index>(),
        ) {
            let position = at.index(reports.len() + 1);
            reports.insert(position, Read);
            prop_assert_eq!(fold(&reports), Read);
        }

        #[test]
        fn a_repeated_report_changes_nothing(
            reports in prop::collection::vec(any_status(), 1..12),
            at in any::<prop::sample::Index>(),
        ) {
            let position = at.index(reports.len());
            let mut repeated = reports.clone();
            repeated.insert(position + 1, reports[position]);
            prop_assert_eq!(fold(&repeated), fold(&reports));
        }

        #[test]
        fn a_status_never_moves_backwards(
            start in any_status(),
            reports in prop::collection::vec(any_status(), 0..12),
        ) {
            let mut status = start;
            for report in reports {
                let next = advance(status, report);
                // What was before is already contained in what came after.
                prop_assert_eq!(advance(next, status), next, "{} then {}", status, report);
                status = next;
            }
        }
    }

    #[test]
    fn a_late_part_receipt_never_moves_a_part_backwards() {
        use PartState::{Accepted as A, Delivered as D, NotDelivered as N};
        assert_eq!(D.advance(A), D);
        assert_eq!(D.advance(N), D);
        assert_eq!(N.advance(A), N);
        assert_eq!(N.advance(D), D);
        assert_eq!(A.advance(N), N);
    }

    proptest! {
        #[test]
        fn parts_all_delivered_in_any_order_with_duplicates_make_the_message_delivered(
            receipts in proptest::collection::vec((0usize..3, 0usize..3), 0..20),
        ) {
            // Three parts; each gets its receipts in any order, and finally a delivery.
            let mut parts = [PartState::Accepted; 3];
            for (part, state) in receipts {
                parts[part] = parts[part].advance(PartState::ALL[state]);
            }
            for part in parts.iter_mut() {
                *part = part.advance(PartState::Delivered);
            }
            prop_assert_eq!(message_outcome_of_parts(&parts), Some(OutboundStatus::Delivered));
        }
    }

    #[test]
    fn a_report_that_proves_earlier_steps_records_them_first() {
        let t = transition(Queued, Read).unwrap();
        assert_eq!(t.implied, vec![Sent, Delivered]);
        assert_eq!(t.next, Read);
        let t = transition(Sent, Read).unwrap();
        assert_eq!(t.implied, vec![Delivered]);
    }

    #[test]
    fn a_report_that_changes_nothing_is_no_transition() {
        assert_eq!(transition(Delivered, Sent), None);
        assert_eq!(transition(Sent, Sent), None);
        // A status report that reconciled a message is never undone by the
        // send job's own "uncertain".
        assert_eq!(transition(Delivered, Uncertain), None);
        assert_eq!(transition(Sent, Uncertain), None);
    }
}
