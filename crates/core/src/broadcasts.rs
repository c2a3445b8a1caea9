//! Broadcasts (SPEC §7): a one-off send to a segment. The rules of its life:
//! which status it is in and which commands move it, so pause, resume and
//! cancel mean the same whoever asks.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for its time.
    Scheduled,
    /// Recipients are being prepared (and the prepared ones sent).
    Preparing,
    /// Every recipient is prepared; messages are still waiting to be sent.
    Sending,
    /// Nothing more is prepared or submitted until resumed.
    Paused,
    /// Every recipient prepared and every message sent or settled.
    Done,
    /// Stopped for good; what was not submitted is not sent.
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Scheduled,
        Status::Preparing,
        Status::Sending,
        Status::Paused,
        Status::Done,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Preparing => "preparing",
            Status::Sending => "sending",
            Status::Paused => "paused",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the broadcast still moves on its own.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Scheduled | Status::Preparing | Status::Sending)
    }

    /// Whether it reached an end.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Done | Status::Cancelled)
    }
}

impl TryFrom<String> for Status {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Status::parse(&s).ok_or_else(|| format!("unknown broadcast status `{s}`"))
    }
}

/// What a user asks of a broadcast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Pause,
    Resume,
    Cancel,
}

/// Why a command cannot apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {} broadcast cannot be {}", from.as_str(), match command { Command::Pause => "paused", Command::Resume => "resumed", Command::Cancel => "cancelled" })]
pub struct NotNow {
    pub from: Status,
    pub command: Command,
}

/// The status a command moves a broadcast to. Resuming goes back to
/// preparing, or to sending when every recipient had been prepared, or to
/// scheduled when its time has not come.
pub fn apply(from: Status, command: Command, prepared_all: bool, before_its_time: bool) -> Result<Status, NotNow> {
    let not_now = NotNow { from, command };
    match command {
        Command::Pause if from.is_active() => Ok(Status::Paused),
        Command::Resume if from == Status::Paused => Ok(if before_its_time {
            Status::Scheduled
        } else if prepared_all {
            Status::Sending
        } else {
            Status::Preparing
        }),
        Command::Cancel if !from.is_final() => Ok(Status::Cancelled),
        _ => Err(not_now),
    }
}

/// The reason a message waiting to be sent gets when its broadcast is
/// cancelled.
pub const CANCELLED_REASON: &str = "broadcast_cancelled";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_active_broadcast_pauses_and_a_finished_one_does_not() {
        for from in [Status::Scheduled, Status::Preparing, Status::Sending] {
            assert_eq!(apply(from, Command::Pause, false, false), Ok(Status::Paused));
        }
        for from in [Status::Paused, Status::Done, Status::Cancelled] {
            assert!(apply(from, Command::Pause, false, false).is_err(), "{from:?}");
        }
    }

    #[test]
    fn resuming_goes_back_to_where_the_broadcast_was() {
        assert_eq!(
            apply(Status::Paused, Command::Resume, false, false),
            Ok(Status::Preparing)
        );
        assert_eq!(apply(Status::Paused, Command::Resume, true, false), Ok(Status::Sending));
        assert_eq!(
            apply(Status::Paused, Command::Resume, false, true),
            Ok(Status::Scheduled)
        );
        assert!(apply(Status::Sending, Command::Resume, false, false).is_err());
    }

    #[test]
    fn anything_not_finished_can_be_cancelled_once() {
        for from in [Status::Scheduled, Status::Preparing, Status::Sending, Status::Paused] {
            assert_eq!(apply(from, Command::Cancel, false, false), Ok(Status::Cancelled));
        }
        assert!(apply(Status::Cancelled, Command::Cancel, false, false).is_err());
        assert!(apply(Status::Done, Command::Cancel, false, false).is_err());
    }
}
