//! From ARI events to the call state machine's reports
//! (`recado_core::voice::call::ProviderEvent`), by the channel id the hub
//! gave each attempt.
//!
//! The mapping is pure and stateless, so it can be replayed over recorded
//! events. Reports may repeat (ringing comes as both `Dial RINGING` and
//! `ChannelStateChange Ringing`): the state machine takes each once.

use std::fmt;

use recado_core::voice::call::{AnsweredBy, ProviderEvent};
use recado_core::voice::Key;

use super::AriEvent;

/// Which leg of an attempt a channel is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leg {
    /// The call to the contact: `{call id}-{attempt}`.
    Main,
    /// The agent the contact is transferred to: `{call id}-{attempt}-t`.
    Transfer,
}

/// The hub's name of a channel: the call, the attempt and the leg. Its
/// [`channel_id`](Self::channel_id) is the ARI channel id, so a retried
/// originate of the same attempt is refused by Asterisk, and every event
/// names the call it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChannelRef {
    /// The hub's call id (the voice message's id).
    pub call_id: String,
    /// 1, 2, … (`recado_core::voice::call::Call::attempt`).
    pub attempt: u32,
    pub leg: Leg,
}

const TRANSFER_SUFFIX: &str = "-t";

impl ChannelRef {
    pub fn main(call_id: impl Into<String>, attempt: u32) -> ChannelRef {
        ChannelRef {
            call_id: call_id.into(),
            attempt,
            leg: Leg::Main,
        }
    }

    /// The transfer leg of the same attempt.
    pub fn transfer(&self) -> ChannelRef {
        ChannelRef {
            leg: Leg::Transfer,
            ..self.clone()
        }
    }

    /// The ARI channel id.
    pub fn channel_id(&self) -> String {
        self.to_string()
    }

    /// The id of the bridge joining the attempt's two legs: one per attempt,
    /// so a repeated transfer finds it ([`AriError::AlreadyExists`](super::AriError::AlreadyExists)).
    pub fn bridge_id(&self) -> String {
        format!("{}-{}-b", self.call_id, self.attempt)
    }

    /// Reads a channel id written by [`channel_id`](Self::channel_id);
    /// `None` for channels the hub did not name (another application's, an
    /// inbound call's). The attempt is the last `-`-separated part, so call
    /// ids may contain `-` themselves.
    pub fn parse(channel_id: &str) -> Option<ChannelRef> {
        let (rest, leg) = match channel_id.strip_suffix(TRANSFER_SUFFIX) {
            Some(rest) => (rest, Leg::Transfer),
            None => (channel_id, Leg::Main),
        };
        let (call_id, attempt) = rest.rsplit_once('-')?;
        // Only the canonical form ("1", not "01" or "+1"), so parsing and
        // writing give back the same id.
        if call_id.is_empty() || attempt.starts_with('0') || !attempt.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(ChannelRef {
            call_id: call_id.to_string(),
            attempt: attempt.parse().ok()?,
            leg,
        })
    }
}

impl fmt::Display for ChannelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.call_id, self.attempt)?;
        if self.leg == Leg::Transfer {
            f.write_str(TRANSFER_SUFFIX)?;
        }
        Ok(())
    }
}

/// What an event tells the call state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// A report as it is.
    Event(ProviderEvent),
    /// A key. The state machine needs the keys of an attempt numbered
    /// (`ProviderEvent::Dtmf::seq`) to recognise a repeated report; ARI
    /// delivers each press once, in order, on one connection, so the hub
    /// numbers them as they arrive ([`Report::into_event`]).
    Key(Key),
}

impl Report {
    /// The state machine's report; `seq` numbers keys (1, 2, … per attempt).
    pub fn into_event(self, seq: u32) -> ProviderEvent {
        match self {
            Report::Event(event) => event,
            Report::Key(key) => ProviderEvent::Dtmf { key, seq },
        }
    }
}

/// The report an event makes about one of the hub's channels, if any:
///
/// * ringing: `Dial RINGING`, `ChannelStateChange Ringing`;
/// * answered: `StasisStart` (who answered is unknown without AMD);
/// * a key `0`–`9`, `*`, `#`: `ChannelDtmfReceived` (`A`–`D` are ignored);
/// * the end: `ChannelDestroyed` — of an answered channel (state `Up`)
///   always a hang-up, whatever the cause (a phone's bare BYE is cause 0,
///   an odd cause must not make an answered call fail); otherwise by its
///   Q.850 cause ([`ProviderEvent::from_q850`]: 17 busy, 19 no answer, …).
///
/// Everything else (playbacks, `StasisEnd`, `ChannelHangupRequest`, which
/// `ChannelDestroyed` always follows) is not a call report. Reports of the
/// [`Leg::Transfer`] leg are about the agent, not the contact.
pub fn report_of(event: &AriEvent) -> Option<(ChannelRef, Report)> {
    let report = match event {
        AriEvent::Dial { dialstatus, .. } if dialstatus == "RINGING" => ProviderEvent::Ringing,
        AriEvent::ChannelStateChange { state, .. } if state == "Ringing" => ProviderEvent::Ringing,
        AriEvent::StasisStart { .. } => ProviderEvent::Answered {
            answered_by: AnsweredBy::Unknown,
        },
        AriEvent::ChannelDtmfReceived { digit, .. } => {
            let mut chars = digit.chars();
            let key = match (chars.next(), chars.next()) {
                (Some(c), None) => Key::new(c)?,
                _ => return None,
            };
            let channel = ChannelRef::parse(event.channel_id()?)?;
            return Some((channel, Report::Key(key)));
        }
        AriEvent::ChannelDestroyed { state, .. } if state == "Up" => ProviderEvent::HungUp,
        AriEvent::ChannelDestroyed { cause, .. } => ProviderEvent::from_q850(*cause),
        _ => return None,
    };
    let channel = ChannelRef::parse(event.channel_id()?)?;
    Some((channel, Report::Event(report)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::asterisk::events::tests::fixture;
    use recado_core::voice::call::{self, Call, Failure, Input, Settings, Unreached, VoiceEvent};

    #[test]
    fn a_channel_id_is_call_dash_attempt_and_t_for_the_transfer_leg() {
        let main = ChannelRef::main("msg_01kbq7zc3m9yx0ge4d6a8v2rt1", 2);
        assert_eq!(main.channel_id(), "msg_01kbq7zc3m9yx0ge4d6a8v2rt1-2");
        assert_eq!(main.transfer().channel_id(), "msg_01kbq7zc3m9yx0ge4d6a8v2rt1-2-t");
        assert_eq!(main.bridge_id(), "msg_01kbq7zc3m9yx0ge4d6a8v2rt1-2-b");
        for r in [main.clone(), main.transfer(), ChannelRef::main("a-b-3", 12)] {
            assert_eq!(ChannelRef::parse(&r.channel_id()), Some(r));
        }
    }

    #[test]
    fn ids_the_hub_did_not_write_are_not_its_channels() {
        for id in [
            "check-65e8b9558bb6",
            "1700000000.12",
            "msg_1",
            "-1",
            "msg_1-",
            "msg_1-01",
            "msg_1-+1",
            "msg_1-0x1",
            "msg_1-1-b",
            "msg_1-99999999999",
        ] {
            assert_eq!(ChannelRef::parse(id), None, "{id}");
        }
    }

    fn reports(name: &str) -> Vec<(ChannelRef, Report)> {
        fixture(name).iter().filter_map(|r| report_of(&r.event)).collect()
    }

    fn main_ref(n: u32) -> ChannelRef {
        ChannelRef::main(format!("msg_01kbq7zc3m9yx0ge4d6a8v2rt{n}"), 1)
    }

    fn answered() -> Report {
        Report::Event(ProviderEvent::Answered {
            answered_by: AnsweredBy::Unknown,
        })
    }

    #[test]
    fn an_answered_call_reports_ringing_answer_key_and_hang_up() {
        let r = main_ref(1);
        let key = Key::new('1').unwrap();
        assert_eq!(
            reports("answer_dtmf"),
            [
                (r.clone(), Report::Event(ProviderEvent::Ringing)),
                (r.clone(), Report::Event(ProviderEvent::Ringing)),
                (r.clone(), answered()),
                (r.clone(), Report::Key(key)),
                (r, Report::Event(ProviderEvent::HungUp)),
            ]
        );
    }

    #[test]
    fn busy_reports_busy() {
        assert_eq!(reports("busy"), [(main_ref(3), Report::Event(ProviderEvent::Busy))]);
    }

    #[test]
    fn a_call_that_rang_out_reports_ringing_then_no_answer() {
        let r = main_ref(4);
        let got = reports("no_answer");
        assert_eq!(got.last(), Some(&(r.clone(), Report::Event(ProviderEvent::NoAnswer))));
        assert!(got[..got.len() - 1]
            .iter()
            .all(|x| *x == (r.clone(), Report::Event(ProviderEvent::Ringing))));
    }

    #[test]
    fn an_answered_channel_that_ends_is_a_hang_up_whatever_the_cause() {
        let destroyed = |cause, state: &str| AriEvent::ChannelDestroyed {
            channel_id: "m-1".into(),
            cause,
            cause_txt: String::new(),
            state: state.into(),
        };
        for cause in [0, 16, 17, 127] {
            assert_eq!(
                report_of(&destroyed(cause, "Up")).map(|(_, r)| r),
                Some(Report::Event(ProviderEvent::HungUp))
            );
        }
        assert_eq!(
            report_of(&destroyed(18, "Down")).map(|(_, r)| r),
            Some(Report::Event(ProviderEvent::Failed {
                failure: Failure::Unreachable
            }))
        );
    }

    #[test]
    fn keys_outside_the_keypad_report_nothing() {
        for digit in ["A", "D", "", "12"] {
            let event = AriEvent::ChannelDtmfReceived {
                channel_id: "m-1".into(),
                digit: digit.into(),
                duration_ms: 100,
            };
            assert_eq!(report_of(&event), None, "{digit}");
        }
    }

    #[test]
    fn the_transfer_legs_reports_name_that_leg() {
        let event = AriEvent::StasisStart {
            channel_id: "m-1-t".into(),
            args: vec![],
        };
        let (channel, report) = report_of(&event).unwrap();
        assert_eq!(channel, ChannelRef::main("m", 1).transfer());
        assert_eq!(report, answered());
    }

    #[test]
    fn keys_are_numbered_by_the_caller() {
        let key = Key::new('#').unwrap();
        assert_eq!(Report::Key(key).into_event(3), ProviderEvent::Dtmf { key, seq: 3 });
        assert_eq!(Report::Event(ProviderEvent::Busy).into_event(3), ProviderEvent::Busy);
    }

    /// Feeds a recorded call's reports to the state machine, as the hub will.
    fn timeline(name: &str) -> Vec<VoiceEvent> {
        let settings = Settings::default();
        let (mut state, _) = call::apply(&settings, &Call::new(), Input::Dial, 0);
        let mut recorded = Vec::new();
        let mut seq = 0;
        let mut feed = |state: &mut Call, event: ProviderEvent| {
            let (next, out) = call::apply(&settings, state, Input::Provider { attempt: 1, event }, 1);
            *state = next;
            recorded.extend(out.events);
        };
        feed(&mut state, ProviderEvent::Accepted);
        for (channel, report) in reports(name) {
            assert_eq!(channel.attempt, 1);
            if matches!(report, Report::Key(_)) {
                seq += 1;
            }
            feed(&mut state, report.into_event(seq));
        }
        assert!(state.is_ended(), "{name}: the call did not end");
        recorded
    }

    #[test]
    fn recorded_calls_give_the_timelines_the_spec_names() {
        let key = |c| Key::new(c).unwrap();
        let delivered = VoiceEvent::Delivered {
            answered_by: AnsweredBy::Unknown,
        };
        assert_eq!(
            timeline("answer_dtmf"),
            [VoiceEvent::Sent, delivered, VoiceEvent::KeyPressed { key: key('1') }]
        );
        assert_eq!(
            timeline("answer_info"),
            [VoiceEvent::Sent, delivered, VoiceEvent::KeyPressed { key: key('9') }]
        );
        assert_eq!(timeline("hang_up"), [VoiceEvent::Sent, delivered]);
        let not_delivered = |why| VoiceEvent::NotDelivered { why, attempts: 1 };
        assert_eq!(timeline("busy"), [VoiceEvent::Sent, not_delivered(Unreached::Busy)]);
        assert_eq!(
            timeline("no_answer"),
            [VoiceEvent::Sent, not_delivered(Unreached::NoAnswer)]
        );
    }
}
