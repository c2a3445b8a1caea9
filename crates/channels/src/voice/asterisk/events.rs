//! The events ARI sends over its WebSocket, reduced to what the hub reads.
//!
//! Each event is a JSON object with a `type`; the channel it concerns is a
//! full snapshot under `channel` (or `peer` in `Dial`), of which only the id
//! and state matter here. Types the hub does not read become
//! [`AriEvent::Other`], so a newer Asterisk adding events breaks nothing.

use chrono::DateTime;
use serde::Deserialize;

use super::{AriError, ChannelInfo};

/// One ARI event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AriEvent {
    /// The channel entered the application: for an originate to the
    /// application, the callee answered. `args` are the originate's
    /// `appArgs`.
    StasisStart { channel_id: String, args: Vec<String> },
    /// The channel left the application (hung up, or sent to the dialplan).
    StasisEnd { channel_id: String },
    /// The channel's state changed: `Ringing`, `Up`, …
    ChannelStateChange { channel_id: String, state: String },
    /// Dial progress of an originated channel: `dialstatus` is empty when
    /// the dial starts, then `RINGING`, `ANSWER`, `BUSY`, `NOANSWER`,
    /// `CHANUNAVAIL`, `CONGESTION`, `CANCEL`.
    Dial { peer_id: String, dialstatus: String },
    /// A key: `digit` is `0`–`9`, `*`, `#` (or `A`–`D`). RFC 4733 keys
    /// measured 280 ms on the rig, SIP INFO keys 160 ms.
    ChannelDtmfReceived {
        channel_id: String,
        digit: String,
        duration_ms: u32,
    },
    /// `target_uri` is `channel:{id}` for a playback on a channel.
    PlaybackStarted { playback_id: String, target_uri: String },
    /// `state` is `done` when the media played out or was stopped, `failed`
    /// when it could not be played (e.g. an HTTP media not fetched).
    PlaybackFinished {
        playback_id: String,
        target_uri: String,
        state: String,
    },
    /// Someone asked to hang up (`cause` absent when the phone sent BYE).
    ChannelHangupRequest { channel_id: String, cause: Option<u16> },
    /// The channel is gone: its Q.850 cause, and the state it was in
    /// (`Up` once answered; `Down` or `Ringing` if it never was).
    ChannelDestroyed {
        channel_id: String,
        cause: u16,
        cause_txt: String,
        state: String,
    },
    /// Another WebSocket connected for this application name and took it
    /// over: this connection receives no more events.
    ApplicationReplaced { application: String },
    /// Any other event type (`ChannelVarset`, `ChannelDialplan`, bridge
    /// events, …), by its type.
    Other { kind: String },
}

/// An event with the time Asterisk raised it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub event: AriEvent,
    /// The event's `timestamp`, in milliseconds since the epoch.
    pub at_ms: Option<i64>,
}

impl AriEvent {
    /// The event types read into variants other than [`AriEvent::Other`]:
    /// the application's event filter allows exactly these.
    pub const KINDS: &'static [&'static str] = &[
        "StasisStart",
        "StasisEnd",
        "ChannelStateChange",
        "Dial",
        "ChannelDtmfReceived",
        "PlaybackStarted",
        "PlaybackFinished",
        "ChannelHangupRequest",
        "ChannelDestroyed",
        "ApplicationReplaced",
    ];

    /// The channel the event is about (the dialled one for `Dial`; for a
    /// playback on a channel, that channel).
    pub fn channel_id(&self) -> Option<&str> {
        match self {
            AriEvent::StasisStart { channel_id, .. }
            | AriEvent::StasisEnd { channel_id }
            | AriEvent::ChannelStateChange { channel_id, .. }
            | AriEvent::ChannelDtmfReceived { channel_id, .. }
            | AriEvent::ChannelHangupRequest { channel_id, .. }
            | AriEvent::ChannelDestroyed { channel_id, .. } => Some(channel_id),
            AriEvent::Dial { peer_id, .. } => Some(peer_id),
            AriEvent::PlaybackStarted { target_uri, .. } | AriEvent::PlaybackFinished { target_uri, .. } => {
                target_uri.strip_prefix("channel:")
            }
            AriEvent::ApplicationReplaced { .. } | AriEvent::Other { .. } => None,
        }
    }
}

impl Received {
    /// Reads one event as ARI sends it (a WebSocket text message). An event
    /// of a known type without its fields is a [`AriError::Protocol`] error;
    /// an unknown type is [`AriEvent::Other`].
    pub fn from_json(text: &str) -> Result<Received, AriError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| AriError::Protocol(format!("an event that is not JSON: {e}")))?;
        let kind = value.get("type").and_then(|t| t.as_str()).unwrap_or_default();
        let at_ms = value.get("timestamp").and_then(|t| t.as_str()).and_then(ari_time_ms);
        let event = match Wire::deserialize(&value) {
            Ok(wire) => wire.into_event(kind),
            Err(e) => return Err(AriError::Protocol(format!("a `{kind}` event: {e}"))),
        };
        Ok(Received { event, at_ms })
    }
}

/// ARI's times, e.g. `2026-12-05T02:50:25.981+0000`, in milliseconds.
pub(crate) fn ari_time_ms(text: &str) -> Option<i64> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The events as they come, one variant per type read.
#[derive(Deserialize)]
#[serde(tag = "type")]
enum Wire {
    StasisStart {
        channel: ChannelInfo,
        #[serde(default)]
        args: Vec<String>,
    },
    StasisEnd {
        channel: ChannelInfo,
    },
    ChannelStateChange {
        channel: ChannelInfo,
    },
    Dial {
        peer: ChannelInfo,
        #[serde(default)]
        dialstatus: String,
    },
    ChannelDtmfReceived {
        channel: ChannelInfo,
        digit: String,
        #[serde(default)]
        duration_ms: u32,
    },
    PlaybackStarted {
        playback: Playback,
    },
    PlaybackFinished {
        playback: Playback,
    },
    ChannelHangupRequest {
        channel: ChannelInfo,
        #[serde(default)]
        cause: Option<u16>,
    },
    ChannelDestroyed {
        channel: ChannelInfo,
        cause: u16,
        #[serde(default)]
        cause_txt: String,
    },
    ApplicationReplaced {
        #[serde(default)]
        application: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct Playback {
    id: String,
    #[serde(default)]
    target_uri: String,
    #[serde(default)]
    state: String,
}

impl Wire {
    fn into_event(self, kind: &str) -> AriEvent {
        match self {
            Wire::StasisStart { channel, args } => AriEvent::StasisStart {
                channel_id: channel.id,
                args,
            },
            Wire::StasisEnd { channel } => AriEvent::StasisEnd { channel_id: channel.id },
            Wire::ChannelStateChange { channel } => AriEvent::ChannelStateChange {
                channel_id: channel.id,
                state: channel.state,
            },
            Wire::Dial { peer, dialstatus } => AriEvent::Dial {
                peer_id: peer.id,
                dialstatus,
            },
            Wire::ChannelDtmfReceived {
                channel,
                digit,
                duration_ms,
            } => AriEvent::ChannelDtmfReceived {
                channel_id: channel.id,
                digit,
                duration_ms,
            },
            Wire::PlaybackStarted { playback } => AriEvent::PlaybackStarted {
                playback_id: playback.id,
                target_uri: playback.target_uri,
            },
            Wire::PlaybackFinished { playback } => AriEvent::PlaybackFinished {
                playback_id: playback.id,
                target_uri: playback.target_uri,
                state: playback.state,
            },
            Wire::ChannelHangupRequest { channel, cause } => AriEvent::ChannelHangupRequest {
                channel_id: channel.id,
                cause,
            },
            Wire::ChannelDestroyed {
                channel,
                cause,
                cause_txt,
            } => AriEvent::ChannelDestroyed {
                channel_id: channel.id,
                cause,
                cause_txt,
                state: channel.state,
            },
            Wire::ApplicationReplaced { application } => AriEvent::ApplicationReplaced { application },
            Wire::Other => AriEvent::Other { kind: kind.to_string() },
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Events captured on the rig (Asterisk 22.10.1), one JSON per line, for
    /// the call `msg_01kbq7zc3m9yx0ge4d6a8v2rt{n}-1` to each phone.
    pub(crate) fn fixture(name: &str) -> Vec<Received> {
        let text = match name {
            "answer_dtmf" => include_str!("fixtures/answer_dtmf.jsonl"),
            "answer_info" => include_str!("fixtures/answer_info.jsonl"),
            "busy" => include_str!("fixtures/busy.jsonl"),
            "no_answer" => include_str!("fixtures/no_answer.jsonl"),
            "hang_up" => include_str!("fixtures/hang_up.jsonl"),
            "application_replaced" => include_str!("fixtures/application_replaced.jsonl"),
            _ => panic!("no fixture {name}"),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Received::from_json(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}")))
            .collect()
    }

    fn events(name: &str) -> Vec<AriEvent> {
        fixture(name)
            .into_iter()
            .map(|r| r.event)
            .filter(|e| !matches!(e, AriEvent::Other { .. }))
            .collect()
    }

    const DTMF_CALL: &str = "msg_01kbq7zc3m9yx0ge4d6a8v2rt1-1";

    #[test]
    fn an_answered_call_reads_as_dial_answer_key_and_normal_clearing() {
        let id = DTMF_CALL.to_string();
        let events = events("answer_dtmf");
        let playback_id = match &events[6] {
            AriEvent::PlaybackStarted { playback_id, .. } => playback_id.clone(),
            other => panic!("not a playback: {other:?}"),
        };
        let target_uri = format!("channel:{id}");
        assert_eq!(
            events,
            [
                AriEvent::Dial {
                    peer_id: id.clone(),
                    dialstatus: String::new()
                },
                AriEvent::ChannelStateChange {
                    channel_id: id.clone(),
                    state: "Ringing".into()
                },
                AriEvent::Dial {
                    peer_id: id.clone(),
                    dialstatus: "RINGING".into()
                },
                AriEvent::ChannelStateChange {
                    channel_id: id.clone(),
                    state: "Up".into()
                },
                AriEvent::Dial {
                    peer_id: id.clone(),
                    dialstatus: "ANSWER".into()
                },
                AriEvent::StasisStart {
                    channel_id: id.clone(),
                    args: vec!["check".into()]
                },
                AriEvent::PlaybackStarted {
                    playback_id: playback_id.clone(),
                    target_uri: target_uri.clone()
                },
                AriEvent::ChannelDtmfReceived {
                    channel_id: id.clone(),
                    digit: "1".into(),
                    duration_ms: 280
                },
                AriEvent::PlaybackFinished {
                    playback_id,
                    target_uri,
                    state: "done".into()
                },
                AriEvent::ChannelHangupRequest {
                    channel_id: id.clone(),
                    cause: Some(32)
                },
                AriEvent::StasisEnd { channel_id: id.clone() },
                AriEvent::ChannelDestroyed {
                    channel_id: id,
                    cause: 16,
                    cause_txt: "Normal Clearing".into(),
                    state: "Up".into()
                },
            ]
        );
    }

    #[test]
    fn unread_event_types_are_kept_by_name() {
        let others: Vec<_> = fixture("answer_dtmf")
            .into_iter()
            .filter_map(|r| match r.event {
                AriEvent::Other { kind } => Some(kind),
                _ => None,
            })
            .collect();
        assert_eq!(others.len(), 7);
        assert!(others.iter().all(|k| k == "ChannelVarset"));
    }

    #[test]
    fn a_sip_info_key_has_its_own_duration() {
        let key = events("answer_info")
            .into_iter()
            .find(|e| matches!(e, AriEvent::ChannelDtmfReceived { .. }));
        assert!(matches!(
            key,
            Some(AriEvent::ChannelDtmfReceived { digit, duration_ms: 160, .. }) if digit == "9"
        ));
    }

    #[test]
    fn busy_and_no_answer_end_with_their_causes_before_any_answer() {
        assert_eq!(
            events("busy").last(),
            Some(&AriEvent::ChannelDestroyed {
                channel_id: "msg_01kbq7zc3m9yx0ge4d6a8v2rt3-1".into(),
                cause: 17,
                cause_txt: "User busy".into(),
                state: "Down".into()
            })
        );
        assert_eq!(
            events("no_answer").last(),
            Some(&AriEvent::ChannelDestroyed {
                channel_id: "msg_01kbq7zc3m9yx0ge4d6a8v2rt4-1".into(),
                cause: 19,
                cause_txt: "User alerting, no answer".into(),
                state: "Ringing".into()
            })
        );
    }

    #[test]
    fn a_hang_up_by_the_phone_has_no_request_cause_and_ends_with_cause_0() {
        let events = events("hang_up");
        assert!(events.contains(&AriEvent::ChannelHangupRequest {
            channel_id: "msg_01kbq7zc3m9yx0ge4d6a8v2rt5-1".into(),
            cause: None
        }));
        assert!(matches!(
            events.last(),
            Some(AriEvent::ChannelDestroyed { cause: 0, state, .. }) if state == "Up"
        ));
    }

    #[test]
    fn application_replaced_names_the_application() {
        assert_eq!(
            events("application_replaced"),
            [AriEvent::ApplicationReplaced {
                application: "recado".into()
            }]
        );
    }

    #[test]
    fn events_keep_asterisks_timestamp_in_milliseconds() {
        let first = &fixture("busy")[0];
        let text = include_str!("fixtures/busy.jsonl").lines().next().unwrap();
        let stamp: serde_json::Value = serde_json::from_str(text).unwrap();
        let expected = DateTime::parse_from_rfc3339(&stamp["timestamp"].as_str().unwrap().replace("+0000", "+00:00"))
            .unwrap()
            .timestamp_millis();
        assert_eq!(first.at_ms, Some(expected));
        assert_eq!(ari_time_ms("2026-12-05T02:50:25.981+0000"), Some(1_796_439_025_981));
        assert_eq!(ari_time_ms("yesterday"), None);
    }

    #[test]
    fn every_event_names_its_channel() {
        for r in fixture("answer_dtmf") {
            match r.event {
                AriEvent::Other { .. } => assert_eq!(r.event.channel_id(), None),
                ref e => assert_eq!(e.channel_id(), Some(DTMF_CALL), "{e:?}"),
            }
        }
    }

    #[test]
    fn a_known_event_without_its_fields_is_a_protocol_error() {
        let error = Received::from_json(r#"{"type":"ChannelDestroyed","channel":{"id":"x"}}"#).unwrap_err();
        assert!(matches!(error, AriError::Protocol(m) if m.contains("ChannelDestroyed")));
        assert!(matches!(Received::from_json("not json"), Err(AriError::Protocol(_))));
    }

    #[test]
    fn an_unknown_event_type_is_other() {
        let r = Received::from_json(r#"{"type":"ChannelTalkingStarted","channel":{"id":"x"}}"#).unwrap();
        assert_eq!(
            r.event,
            AriEvent::Other {
                kind: "ChannelTalkingStarted".into()
            }
        );
        assert_eq!(r.at_ms, None);
    }
}
