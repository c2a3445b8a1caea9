//! The public side of an SMPP session: [`start`] and [`SmppHandle`].
//!
//! A part handed to the session is in one of three states, shared between the caller and the
//! session task so that exactly one of them decides its fate:
//! - queued: not written; the caller may abandon it (and report it unsent) when the session
//!   stays unbound past the response timeout;
//! - written: the session owns the outcome and always reports one (the `submit_sm_resp`, or
//!   "uncertain" when the response timed out or the connection dropped first);
//! - abandoned: the caller gave up before it was written; the session skips it.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusmpp::pdus::SubmitSm;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::config::SmppConfig;
use super::parts::SubmitPart;
use super::pdu::submit_sm;
use super::session;
use super::SmppEvent;
use crate::sms::SmsSendError;

pub(crate) const QUEUED: u8 = 0;
pub(crate) const WRITTEN: u8 = 1;
pub(crate) const ABANDONED: u8 = 2;

/// Requests waiting for the window; beyond this, submits wait to be queued.
const QUEUE_CAPACITY: usize = 4096;
/// Attempts for a later part of a long message that the SMSC throttles: the earlier parts are
/// already accepted, so giving up means a broken message.
const LATER_PART_ATTEMPTS: u32 = 5;
const LATER_PART_BACKOFF: Duration = Duration::from_millis(200);
const LATER_PART_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// One `submit_sm` on its way through the session.
pub(crate) struct Request {
    pub submit: SubmitSm,
    pub state: Arc<AtomicU8>,
    pub reply: oneshot::Sender<Result<String, SmsSendError>>,
}

impl Request {
    /// Claims the request for writing; false when the caller abandoned it.
    pub fn claim(&self) -> bool {
        self.state
            .compare_exchange(QUEUED, WRITTEN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// A running session. Clones share it; it stops when [`shutdown`](Self::shutdown) is called or
/// the last clone is dropped.
#[derive(Clone, Debug)]
pub struct SmppHandle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    requests: mpsc::Sender<Request>,
    bound: watch::Receiver<bool>,
    shutdown: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
    response_timeout: Duration,
}

/// Spawns the session task for `config` (on the current tokio runtime) and returns its handle.
///
/// Events go to `events`. The session waits when that channel is full (a receipt or an MO is
/// acknowledged to the SMSC only once handed on), and while it waits it reads nothing, not
/// even submit responses: drain the channel from a task that never waits for a `submit`.
pub fn start(config: SmppConfig, events: mpsc::Sender<SmppEvent>) -> SmppHandle {
    let (requests_tx, requests_rx) = mpsc::channel(QUEUE_CAPACITY);
    let (bound_tx, bound_rx) = watch::channel(false);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let response_timeout = config.response_timeout();
    let task = tokio::spawn(session::run(config, events, requests_rx, bound_tx, shutdown_rx));
    SmppHandle {
        inner: Arc::new(Inner {
            requests: requests_tx,
            bound: bound_rx,
            shutdown: shutdown_tx,
            task: Mutex::new(Some(task)),
            response_timeout,
        }),
    }
}

impl SmppHandle {
    /// Whether the session is bound right now.
    pub fn is_bound(&self) -> bool {
        *self.inner.bound.borrow()
    }

    /// Waits until the session is bound, at most `limit`; true when it is.
    pub async fn wait_bound(&self, limit: Duration) -> bool {
        let mut bound = self.inner.bound.clone();
        let outcome = timeout(limit, bound.wait_for(|b| *b)).await;
        matches!(outcome, Ok(Ok(_)))
    }

    /// Submits the parts of one message, in order, and returns the SMSC's message id of each.
    ///
    /// Unbound, it waits up to the response timeout for the bind, else
    /// [`SmsSendError::Unreachable`]. Errors follow [`SmsSendError`]'s rules for the first
    /// part; once a part was accepted, a later failure is [`SmsSendError::Uncertain`] (sending
    /// the message again would repeat the accepted parts) unless the SMSC refused it for good
    /// ([`SmsSendError::Rejected`]). A later part that is throttled is retried here a few times.
    pub async fn submit(&self, from: &str, to: &str, parts: Vec<SubmitPart>) -> Result<Vec<String>, SmsSendError> {
        if parts.is_empty() {
            return Err(rejected("empty_message", "a message needs at least one part".into()));
        }
        let submits = parts
            .iter()
            .map(|p| submit_sm(from, to, p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| rejected("invalid_submit", e))?;
        if !self.wait_bound(self.inner.response_timeout).await {
            return Err(SmsSendError::Unreachable(format!(
                "not bound to the SMSC within {} s",
                self.inner.response_timeout.as_secs()
            )));
        }
        let mut ids = Vec::with_capacity(submits.len());
        for submit in submits {
            let result = if ids.is_empty() {
                self.submit_part(submit).await
            } else {
                self.submit_later_part(submit).await
            };
            match result {
                Ok(id) => ids.push(id),
                Err(e) if ids.is_empty() => return Err(e),
                Err(SmsSendError::Rejected { code, message }) => {
                    return Err(SmsSendError::Rejected {
                        code,
                        message: format!("{message} (after parts {ids:?} were accepted)"),
                    })
                }
                Err(e) => {
                    return Err(SmsSendError::Uncertain(format!(
                        "parts {ids:?} were accepted, then part {}: {e}",
                        ids.len() + 1
                    )))
                }
            }
        }
        Ok(ids)
    }

    async fn submit_later_part(&self, submit: SubmitSm) -> Result<String, SmsSendError> {
        let mut delay = LATER_PART_BACKOFF;
        let mut attempt = 1;
        loop {
            match self.submit_part(submit.clone()).await {
                Err(SmsSendError::RetryLater { retry_after_ms, .. }) if attempt < LATER_PART_ATTEMPTS => {
                    let wait = retry_after_ms.map_or(delay, |ms| Duration::from_millis(ms.max(0) as u64));
                    tokio::time::sleep(wait.min(LATER_PART_BACKOFF_MAX)).await;
                    delay = (delay * 2).min(LATER_PART_BACKOFF_MAX);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn submit_part(&self, submit: SubmitSm) -> Result<String, SmsSendError> {
        let limit = self.inner.response_timeout;
        let state = Arc::new(AtomicU8::new(QUEUED));
        let (reply, mut answer) = oneshot::channel();
        let request = Request {
            submit,
            state: state.clone(),
            reply,
        };
        match timeout(limit, self.inner.requests.send(request)).await {
            Err(_) => {
                return Err(SmsSendError::RetryLater {
                    message: "the SMPP session's queue stayed full".into(),
                    retry_after_ms: None,
                })
            }
            Ok(Err(_)) => return Err(SmsSendError::Unreachable("the SMPP session has stopped".into())),
            Ok(Ok(())) => {}
        }
        loop {
            match timeout(limit, &mut answer).await {
                Ok(Ok(result)) => return result,
                Ok(Err(_)) => {
                    return Err(if state.load(Ordering::Acquire) == WRITTEN {
                        SmsSendError::Uncertain("the SMPP session stopped before the SMSC answered".into())
                    } else {
                        SmsSendError::Unreachable("the SMPP session has stopped".into())
                    })
                }
                // Still queued behind a full window while bound: keep waiting, the window moves.
                // Written: the session reports the outcome itself, within its own timeouts.
                Err(_) if self.is_bound() => {}
                Err(_) => {
                    if state
                        .compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        return Err(SmsSendError::Unreachable(
                            "the connection to the SMSC was lost before the part was sent".into(),
                        ));
                    }
                }
            }
        }
    }

    /// Unbinds (after the submits in flight are answered, within the response timeout), closes
    /// the connection and ends the session task. Queued submits are reported unsent.
    pub async fn shutdown(self) {
        let _ = self.inner.shutdown.send(true);
        let task = self.inner.task.lock().expect("task lock").take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

fn rejected(code: &str, message: String) -> SmsSendError {
    SmsSendError::Rejected {
        code: code.into(),
        message,
    }
}
