//! How a called number behaves: refused, busy, unanswered, failed, or answered with the keys
//! it presses.

use std::collections::VecDeque;

/// How the called number behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub(super) outcome: Outcome,
    pub(super) answered_by: Option<String>,
    pub(super) dial_status: String,
}

/// What happens to a call to the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Refuse {
        http_status: u16,
        code: i64,
        message: String,
    },
    Busy,
    NoAnswer,
    Failed {
        sip: u16,
    },
    Answer {
        keys: VecDeque<String>,
        /// After the keys: hang up at the next `<Gather>` (else stay silent).
        then_hang_up: bool,
    },
}

impl Script {
    fn new(outcome: Outcome) -> Script {
        Script {
            outcome,
            answered_by: None,
            dial_status: "completed".into(),
        }
    }

    /// The Calls API refuses the call with the provider's error `code` and `message`.
    pub fn refuse(http_status: u16, code: i64, message: impl Into<String>) -> Script {
        Script::new(Outcome::Refuse {
            http_status,
            code,
            message: message.into(),
        })
    }

    /// The line is busy.
    pub fn busy() -> Script {
        Script::new(Outcome::Busy)
    }

    /// It rings out.
    pub fn no_answer() -> Script {
        Script::new(Outcome::NoAnswer)
    }

    /// The call fails with SIP 404 (no such number).
    pub fn failed() -> Script {
        Script::failed_with_sip(404)
    }

    /// The call fails with SIP final response `sip`.
    pub fn failed_with_sip(sip: u16) -> Script {
        Script::new(Outcome::Failed { sip })
    }

    /// Answers and presses `keys`, one per `<Gather>` in order; `""` is silence at that
    /// `<Gather>`. After the last key it stays silent.
    pub fn answer_and_press<I, S>(keys: I) -> Script
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Script::new(Outcome::Answer {
            keys: keys.into_iter().map(Into::into).collect(),
            then_hang_up: false,
        })
    }

    /// Answers, listens and hangs up at the first `<Gather>` (during the menu).
    pub fn answer_and_hang_up() -> Script {
        Script::answer_and_press(Vec::<String>::new()).then_hang_up()
    }

    /// Answers and never presses a key.
    pub fn answer_silent() -> Script {
        Script::answer_and_press(Vec::<String>::new())
    }

    /// After the scripted keys, hang up at the next `<Gather>` instead of staying silent.
    pub fn then_hang_up(mut self) -> Script {
        if let Outcome::Answer { then_hang_up, .. } = &mut self.outcome {
            *then_hang_up = true;
        }
        self
    }

    /// What answering-machine detection reports (`human`, `machine_start`, `fax`, …) when the
    /// call asked for it; `human` unless set.
    pub fn answered_by(mut self, answered_by: impl Into<String>) -> Script {
        self.answered_by = Some(answered_by.into());
        self
    }

    /// The `DialCallStatus` of transfers (`completed` unless set).
    pub fn dial_status(mut self, status: impl Into<String>) -> Script {
        self.dial_status = status.into();
        self
    }
}
