//! WhatsApp Business Platform (Cloud API) and 360dialog adapter.
//!
//! - [`signature`]: `X-Hub-Signature-256` and the verification handshake.
//! - [`webhook`] / [`inbound`]: parsing of signed deliveries into [`WebhookItem`]s.
//! - [`send`]: outbound content, its limits and the exact `/messages` request body.
//! - [`templates`]: template definitions, their variables, parameter filling, opt-out buttons.
//! - [`client`]: the HTTP client for both providers.
//! - [`errors`]: what to do with a provider error code.
//! - [`testkit`]: webhook bodies for tests and benchmarks of the crates that use this one.

pub mod client;
#[cfg(feature = "contract")]
pub mod contract;
pub mod errors;
pub mod inbound;
pub mod limits;
pub mod send;
pub mod signature;
pub mod templates;
pub mod testkit;
pub mod webhook;

mod json;
mod opt_out;

pub use client::{Provider, SendError, SentMessage, WhatsAppClient};
pub use errors::{classify, ErrorAction};
pub use inbound::{InboundContent, InboundMessage, MediaRef, SharedContact, SharedPhone};
pub use send::{
    message_body, validate, ContentError, Interactive, MediaKind, OutboundContent, ReplyButton, Row, Section,
    SendRequest,
};
pub use signature::{sign, verify_signature, verify_token_matches};
pub use templates::{build_components, Template, TemplateParamError, TemplateParams, TemplateVariables};
pub use webhook::{
    parse_webhook, AccountErrors, ProviderError, ProviderStatus, StatusUpdate, TemplateStatusUpdate,
    UserPreferenceUpdate, WebhookItem, WebhookParseError,
};
