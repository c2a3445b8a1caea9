//! A call as the runner records it: the Calls API form, its status, and every step it took
//! against the hub, with the views tests assert on.

use crate::voice::twiml::document::{Dial, Method, Say};

/// Who ended an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HungUpBy {
    /// A `<Hangup/>`.
    Document,
    /// The last document ran out of verbs.
    EndOfDocument,
    /// The called contact, as scripted.
    Callee,
    /// A hang-up through the Calls API.
    Api,
}

/// One thing the runner did during a call, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A status callback posted; `http_status` is the hub's answer (`None`: no answer).
    Callback {
        status: String,
        url: String,
        params: Vec<(String, String)>,
        http_status: Option<u16>,
    },
    /// A document requested (the call's `Url`, an action, a redirect) and the hub's answer.
    Request {
        url: String,
        method: Method,
        params: Vec<(String, String)>,
        http_status: Option<u16>,
        body: String,
    },
    /// A `<Play>` (its absolute URL); `media_status` when the runner fetches audio.
    Play {
        url: String,
        media_status: Option<u16>,
    },
    Say(Say),
    Pause {
        length_s: u32,
    },
    /// Keys sent to a `<Gather>`; empty for silence.
    Digits {
        digits: String,
    },
    /// A `<Dial>` and the outcome the runner gave it.
    Dial {
        dial: Dial,
        status: String,
    },
    Redirect {
        url: String,
    },
    HungUp {
        by: HungUpBy,
    },
    /// What went wrong (a hub error, an unreadable document, …); the call ends.
    Error(String),
}

/// A call the runner was asked to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerCall {
    pub sid: String,
    /// The Calls API form as posted.
    pub form: Vec<(String, String)>,
    pub to: String,
    pub from: String,
    pub url: String,
    pub status_callback: Option<String>,
    /// The `StatusCallbackEvent`s asked for.
    pub status_callback_events: Vec<String>,
    pub machine_detection: bool,
    /// The current `CallStatus`.
    pub status: String,
    pub answered_by: Option<String>,
    /// `CallDuration` of the final callback.
    pub duration_s: Option<u32>,
    pub steps: Vec<Step>,
    /// The final callback is posted; nothing more happens.
    pub finished: bool,
}

impl RunnerCall {
    /// The status callbacks posted: `(CallStatus, the hub's HTTP status)`.
    pub fn callbacks(&self) -> Vec<(String, Option<u16>)> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Callback {
                    status, http_status, ..
                } => Some((status.clone(), *http_status)),
                _ => None,
            })
            .collect()
    }

    /// The `CallStatus` of each status callback, in order.
    pub fn callback_statuses(&self) -> Vec<String> {
        self.callbacks().into_iter().map(|(s, _)| s).collect()
    }

    /// The URLs played.
    pub fn plays(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Play { url, .. } => Some(url.clone()),
                _ => None,
            })
            .collect()
    }

    /// The texts said.
    pub fn says(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Say(say) => Some(say.text.clone()),
                _ => None,
            })
            .collect()
    }

    /// The `Digits` sent, in order (`""` for silence).
    pub fn digits_sent(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Digits { digits } => Some(digits.clone()),
                _ => None,
            })
            .collect()
    }

    /// The transfers, with the outcome given to each.
    pub fn dials(&self) -> Vec<(Dial, String)> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Dial { dial, status } => Some((dial.clone(), status.clone())),
                _ => None,
            })
            .collect()
    }

    /// The documents the hub answered with, in order.
    pub fn documents(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Request {
                    http_status: Some(200..=299),
                    body,
                    ..
                } => Some(body.clone()),
                _ => None,
            })
            .collect()
    }

    /// The document requests: `(URL, params)`.
    pub fn requests(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Request { url, params, .. } => Some((url.clone(), params.clone())),
                _ => None,
            })
            .collect()
    }

    /// How the answered call ended, if it did.
    pub fn hung_up_by(&self) -> Option<HungUpBy> {
        self.steps.iter().find_map(|s| match s {
            Step::HungUp { by } => Some(*by),
            _ => None,
        })
    }

    pub fn errors(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Error(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }
}
