//! The common Twilio-compatible REST style: `POST …/Messages.json` with basic auth, signed
//! `StatusCallback` deliveries (`X-Twilio-Signature`), and the inbound webhook answered with
//! empty TwiML.
//!
//! - [`client`]: the send request, its exact form fields and the error mapping.
//! - [`signature`](mod@signature): computing and checking `X-Twilio-Signature`.
//! - [`callbacks`]: status callbacks and inbound messages from the provider's form posts.
//! - [`errors`]: what a provider error code means for the message.

pub mod callbacks;
pub mod client;
#[cfg(feature = "contract")]
pub mod contract;
pub mod errors;
pub mod signature;

pub use callbacks::{
    parse_inbound, parse_status_callback, twiml_empty_response, InboundSms, ParseError, StatusCallback,
    TWIML_CONTENT_TYPE,
};
pub use client::{
    find_send, request_form, HttpSent, HttpSmsClient, HttpSmsConfig, ListedMessage, Lookup, DEFAULT_BASE_URL,
};
pub use errors::rejection_code;
pub use signature::{signature, verify_signature, SIGNATURE_HEADER};
