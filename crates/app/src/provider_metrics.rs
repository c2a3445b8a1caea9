//! `recado_provider_requests_total{kind,outcome}` and
//! `recado_provider_request_duration_seconds{kind}`: every request the hub
//! makes to an SMS or WhatsApp provider, by the channel's kind and what
//! came of it. An operator alerts on the share of `unreachable`,
//! `retry_later` and `uncertain` outcomes; `refused` is the provider saying
//! no to one message (a bad number, an opt-out) and is no outage.

use std::time::Duration;

/// What came of one request to a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderOutcome {
    /// The provider took the message.
    Accepted,
    /// The provider refused this message for good.
    Refused,
    /// The provider asked the hub to try again later (throttling, 5xx).
    RetryLater,
    /// The provider could not be reached: nothing left the hub.
    Unreachable,
    /// The request left but no readable answer came back.
    Uncertain,
}

impl ProviderOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderOutcome::Accepted => "accepted",
            ProviderOutcome::Refused => "refused",
            ProviderOutcome::RetryLater => "retry_later",
            ProviderOutcome::Unreachable => "unreachable",
            ProviderOutcome::Uncertain => "uncertain",
        }
    }
}

/// Counts one request of a channel of `kind` (`sms_http`, `whatsapp_cloud`,
/// …) and how long it took.
pub fn record(kind: &str, outcome: ProviderOutcome, took: Duration) {
    metrics::counter!("recado_provider_requests_total", "kind" => kind.to_owned(), "outcome" => outcome.as_str())
        .increment(1);
    metrics::histogram!("recado_provider_request_duration_seconds", "kind" => kind.to_owned())
        .record(took.as_secs_f64());
}
