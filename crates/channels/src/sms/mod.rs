//! SMS providers: the Twilio-compatible REST style ([`http`]) and SMPP as an ESME ([`smpp`]).
//!
//! Both report failures with the same [`SmsSendError`], split by what the caller may safely do
//! next, and delivery progress with the same [`DeliveryState`], so the server runs one state
//! machine whoever delivers. What a text costs and how it is cut into parts is the SMS engine's
//! business (`recado_sms`); this module only moves the bytes.
//!
//! - [`http`]: send API, `X-Twilio-Signature`, status callbacks, inbound webhook, TwiML answer.
//! - [`smpp`]: bind, window, throughput, enquire_link, reconnect, receipts and MO messages.
//! - [`testkit`]: signed provider callbacks and a launcher for the test SMSC, for the tests of
//!   the crates that use this one.

pub mod http;
pub mod smpp;
pub mod testkit;

/// Why a message was not (certainly) handed to the provider.
///
/// The variants say what is safe, not what went wrong: only [`RetryLater`](Self::RetryLater)
/// and [`Unreachable`](Self::Unreachable) may be sent again, because only they guarantee the
/// provider did not take the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsSendError {
    /// The provider refused the message for good: never retry it as it is. `code` is a stable
    /// name where one is known (`provider_opt_out`, `invalid_recipient`, `invalid_sender`, …),
    /// otherwise the provider's own code.
    #[error("rejected by the provider ({code}): {message}")]
    Rejected { code: String, message: String },
    /// Throttled or a provider-side failure: the provider certainly did not accept the message,
    /// so it may be sent again after `retry_after_ms` (when the provider said) or a back-off.
    #[error("provider asked to retry later: {message}")]
    RetryLater {
        message: String,
        retry_after_ms: Option<i64>,
    },
    /// The connection failed before the request left: safe to retry.
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    /// The provider may have accepted the message (timeout after the request was written, a
    /// connection lost while waiting for the answer, part of a long message accepted): never
    /// resend blindly; reconcile from delivery reports.
    #[error("outcome unknown, the provider may have accepted the message: {0}")]
    Uncertain(String),
}

impl SmsSendError {
    /// Whether sending the same message again cannot duplicate it.
    pub fn is_safe_to_retry(&self) -> bool {
        matches!(self, SmsSendError::RetryLater { .. } | SmsSendError::Unreachable(_))
    }
}

/// Where a sent message stands according to the provider.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeliveryState {
    /// Queued, sending, sent, or accepted by the SMSC: on its way, not yet on the handset.
    Accepted,
    /// On the handset.
    Delivered,
    /// Undelivered, failed, expired, rejected or deleted; `code` is the provider's error when
    /// it gave one.
    NotDelivered { code: Option<String> },
}

impl DeliveryState {
    /// Whether no later report can change the outcome.
    pub fn is_final(&self) -> bool {
        !matches!(self, DeliveryState::Accepted)
    }
}
